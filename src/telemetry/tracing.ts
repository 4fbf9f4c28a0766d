// One app's tracer and its own active context: child spans, root spans for background runs, the trace id for logs.
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { isGatewayError } from '../refunds/gateway-error.js';

/** The instrumentation scope every span of the gateway's own code is recorded under. */
export const TRACER_NAME = 'refund-gateway';

/**
 * The active context lives in this app's own AsyncLocalStorage, not in OpenTelemetry's global context manager: two
 * apps in one process (tests, replicas played side by side) never see each other's spans, and an app without tracing
 * leaves the process exactly as it found it.
 */
export class Tracing {
  readonly #tracer: Tracer;
  readonly #active = new AsyncLocalStorage<Context>();

  constructor(provider: TracerProvider) {
    this.#tracer = provider.getTracer(TRACER_NAME);
  }

  active(): Context {
    return this.#active.getStore() ?? ROOT_CONTEXT;
  }

  /** Runs `fn` with `context` active: spans started inside it are its children. */
  with<T>(context: Context, fn: () => T): T {
    return this.#active.run(context, fn);
  }

  /** The active span, if any (ended or not: a log line after the answer still belongs to its request). */
  activeSpan(): Span | undefined {
    return trace.getSpan(this.active());
  }

  /**
   * A span under the active one, not made active (nothing traced runs inside it); undefined when no span is active, so
   * work that runs on its own timers (heartbeats, pruning, health probes) adds no traces of its own.
   */
  startChild(name: string, attributes: Attributes, kind: SpanKind = SpanKind.INTERNAL): Span | undefined {
    const parent = this.active();
    if (trace.getSpan(parent) === undefined) return undefined;
    return this.#tracer.startSpan(name, { kind, attributes }, parent);
  }

  /** Runs `fn` in a child of the active span (made active for what `fn` awaits); without an active span, just runs `fn`. */
  inChild<T>(name: string, attributes: Attributes, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
    const span = this.startChild(name, attributes);
    if (span === undefined) return fn(undefined);
    return this.#around(this.active(), span, fn);
  }

  /** Runs `fn` in a new trace of its own: one run of background work. */
  inRoot<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
    const span = this.#tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes, root: true }, ROOT_CONTEXT);
    return this.#around(ROOT_CONTEXT, span, fn);
  }

  #around<T>(parent: Context, span: Span, fn: (span: Span) => Promise<T>): Promise<T> {
    return this.with(trace.setSpan(parent, span), async () => {
      try {
        return await fn(span);
      } catch (error) {
        failSpan(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  }
}

/** Marks a span failed with the gateway's stable code (never the message, which may quote a caller's input). */
export function failSpan(span: Span, error: unknown): void {
  const code = isGatewayError(error) ? error.code : 'internal_error';
  span.setAttribute('gateway.error_code', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}
