// Tracing once it is on: the provider, the W3C propagator, and what the composition root wires (request spans, the
// traced ledger, Stripe call spans, root spans for background runs, the trace id in log lines).
import { propagation, type TracerProvider } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Ledger } from '../refunds/ledger.js';
import type { StripeCallObserver } from '../stripe/stripe-gateway.js';
import { createOtlpProvider } from './otlp-provider.js';
import { registerRequestSpans, type RequestSpans } from './request-spans.js';
import { stripeCallSpans } from './stripe-call-spans.js';
import { TracedLedger, type LedgerSystem } from './traced-ledger.js';
import { Tracing } from './tracing.js';
import type { TracingOptions } from './start-tracing.js';

export interface TracingRuntime {
  readonly tracing: Tracing;
  /** pino's `mixin`: the trace and span ids of the line's request (its logger) or of the active span. */
  logMixin(mergeObject: object, level: number, logger: FastifyBaseLogger): Record<string, string>;
  registerRequestSpans(app: FastifyInstance): Promise<void>;
  traceLedger(ledger: Ledger, system?: LedgerSystem): Ledger;
  readonly onStripeCallStart: StripeCallObserver;
  /** Where export failures are told (the app's logger, once it exists). */
  reportTo(logger: FastifyBaseLogger): void;
  /** Exports what is still buffered and stops the provider it built (a provider given by the caller stays open). */
  close(): Promise<void>;
}

export function createTracingRuntime(options: TracingOptions, given?: TracerProvider): TracingRuntime {
  let logger: FastifyBaseLogger | undefined;
  const owned =
    given === undefined && options.endpoint !== undefined
      ? createOtlpProvider({
          endpoint: options.endpoint,
          serviceName: options.serviceName,
          onExportChange: (failing, error) =>
            failing
              ? logger?.warn({ err: error }, 'trace export failed; spans are dropped until the collector answers')
              : logger?.info('trace export works again'),
        })
      : undefined;
  const provider = given ?? owned;
  if (provider === undefined) throw new Error('tracing needs an OTLP endpoint or a tracer provider');
  // @fastify/otel reads the caller's `traceparent` through the API's global propagator (the one piece of tracing that
  // is process-wide; it holds no state). Registering fails harmlessly when a propagator is already there.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const tracing = new Tracing(provider);
  const spans: RequestSpans = new WeakMap();
  return {
    tracing,
    logMixin: (_mergeObject, _level, lineLogger): Record<string, string> => {
      const span = tracing.activeSpan() ?? spans.get(lineLogger);
      if (span === undefined) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
    registerRequestSpans: (app) => registerRequestSpans(app, provider, tracing, spans),
    traceLedger: (ledger, system) => new TracedLedger(ledger, tracing, system),
    onStripeCallStart: stripeCallSpans(tracing),
    reportTo: (appLogger) => {
      logger = appLogger;
    },
    close: async () => {
      // A collector that is down at shutdown costs the last batch, never a failed close (and so a hung deploy).
      await owned?.shutdown().catch((error: unknown) => logger?.warn({ err: error }, 'the last spans could not be exported at shutdown'));
    },
  };
}
