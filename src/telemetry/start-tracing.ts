// Whether the app traces: only with an OTLP endpoint or a given provider; otherwise nothing of OpenTelemetry is loaded.
import type { TracerProvider } from '@opentelemetry/api';
import type { TracingRuntime } from './tracing-runtime.js';

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT; unset: no export. */
  endpoint: string | undefined;
  /** OTEL_SERVICE_NAME, the `service.name` of every span. */
  serviceName: string;
}

/**
 * Zero cost when off: no SDK, no instrumentation, no propagator, no wrapper on the ledger or the Stripe calls — the
 * modules are imported here, on demand, so a gateway without tracing does not even load them.
 */
export async function startTracing(options: TracingOptions, provider?: TracerProvider): Promise<TracingRuntime | undefined> {
  if (provider === undefined && options.endpoint === undefined) return undefined;
  const { createTracingRuntime } = await import('./tracing-runtime.js');
  return createTracingRuntime(options, provider);
}
