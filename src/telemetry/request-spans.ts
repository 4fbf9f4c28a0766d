// A span per request through Fastify's own instrumentation (@fastify/otel), named by route, made active for the handler.
import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { Span, TracerProvider } from '@opentelemetry/api';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Tracing } from './tracing.js';

/** Probes and scrapes, every few seconds from every replica: traces of them would bury the requests worth reading. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Which request span a request's logger writes for: its log lines carry the trace id even outside the handler. */
export type RequestSpans = WeakMap<FastifyBaseLogger, Span>;

/**
 * Registers the instrumentation; call it before any route or hook so that its span covers the whole request. The
 * request span's parent is the caller's W3C `traceparent` (see tracing-runtime.ts for the propagator). Hook and handler
 * spans of the instrumentation are off: each would be one more span per hook, saying less than the Stripe and ledger
 * spans do.
 */
export async function registerRequestSpans(app: FastifyInstance, provider: TracerProvider, tracing: Tracing, spans: RequestSpans): Promise<void> {
  const instrumentation = new FastifyOtelInstrumentation({
    instrumentHooks: false,
    instrumentHandler: false,
    // Most errors are a caller's 4xx; a stack per refusal would be noise. The status and its code are on the span.
    recordExceptions: false,
    ignorePaths: (route) => UNTRACED_PATHS.has(route.url.split('?')[0] ?? ''),
    requestHook: (span, request) => {
      // Route template as the name (`POST /v1/refunds`), as OpenTelemetry's HTTP conventions say; the method alone
      // when no route matched, so unknown paths never make names without bound.
      const route = request.routeOptions.url;
      span.updateName(route === undefined ? request.method : `${request.method} ${route}`);
      span.setAttribute('gateway.request_id', request.id);
      spans.set(request.log, span);
    },
  });
  instrumentation.setTracerProvider(provider);
  await app.register(instrumentation.plugin());

  // The caller is known once every onRequest hook (authentication among them) has run.
  app.addHook('preParsing', async (request) => {
    const { span } = request.opentelemetry();
    if (span && request.caller) span.setAttribute('gateway.caller', request.caller.id);
  });
  // Entered after the body was read (its stream events would lose an earlier store): what the handler awaits, the
  // ledger's and Stripe's spans among it, runs under the request span.
  app.addHook('preHandler', (request, _reply, done) => {
    const otel = request.opentelemetry();
    if (!otel.context) return done();
    tracing.with(otel.context, done);
  });
}
