// The SDK's tracer provider exporting by OTLP over HTTP (protobuf), built only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';

export interface OtlpOptions {
  /** OTLP's base URL (the collector's :4318); traces go to its `/v1/traces`, as OpenTelemetry's variable means. */
  endpoint: string;
  serviceName: string;
  /** Told when a batch could not be exported, and when exports work again: once per change, not per batch. */
  onExportChange?: (failing: boolean, error: Error | undefined) => void;
}

export const tracesUrl = (endpoint: string): string => `${endpoint.replace(/\/+$/, '')}/v1/traces`;

export function createOtlpProvider(options: OtlpOptions): BasicTracerProvider {
  const exporter = new OTLPTraceExporter({ url: tracesUrl(options.endpoint) });
  return new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    // Batched off the request path: a slow or absent collector costs a dropped batch, never a slower answer.
    spanProcessors: [new BatchSpanProcessor(options.onExportChange ? new ReportingExporter(exporter, options.onExportChange) : exporter)],
  });
}

/** An exporter that says when the collector stops (and starts again) taking spans; the SDK alone would stay silent. */
class ReportingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #onChange: NonNullable<OtlpOptions['onExportChange']>;
  #failing = false;

  constructor(inner: SpanExporter, onChange: NonNullable<OtlpOptions['onExportChange']>) {
    this.#inner = inner;
    this.#onChange = onChange;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      const failing = result.code !== ExportResultCode.SUCCESS;
      if (failing !== this.#failing) {
        this.#failing = failing;
        this.#onChange(failing, result.error);
      }
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}
