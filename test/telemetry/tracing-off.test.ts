// With no OTLP endpoint and no tracer provider: no spans anywhere, no trace ids in logs, and OpenTelemetry not even loaded.
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { auth, createPayment, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const run = promisify(execFile);
const repoRoot = new URL('../../', import.meta.url).pathname;

/** What the child process resolved while a gateway made one refund (see fixtures/refund-module-loads.ts). */
async function moduleLoads(endpoint?: string): Promise<{ status: number; resolved: string[] }> {
  const args = ['--import', 'tsx', 'test/telemetry/fixtures/refund-module-loads.ts', ...(endpoint ? [endpoint] : [])];
  const { stdout } = await run(process.execPath, args, { cwd: repoRoot, env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { status: number; resolved: string[] };
}
const OPEN_TELEMETRY = /\/node_modules\/(@opentelemetry\/|@fastify\/otel\/)|\/src\/telemetry\/(?!start-tracing\.ts)/;

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
  trace.disable();
});

class Lines extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT, no provider)', () => {
  it('when a refund with a caller traceparent is served, then no span is made, not even through the global API, and no log line has a trace id', async () => {
    // A trap: anything that fell back to OpenTelemetry's global tracer would leave its spans here.
    const exporter = new InMemorySpanExporter();
    const trap = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(trap);
    const lines = new Lines();
    const gw: TestGateway = await startTestGateway({ logger: { level: 'info', stream: lines } });
    opened.push(gw, { close: () => trap.shutdown() });

    const p = await createPayment(gw.stripe, { amount: 5_000 });
    const made = await gw.http
      .post('/v1/refunds')
      .set(auth())
      .set('idempotency-key', 'off-1')
      .set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
      .send({ payment_intent: p.intent, amount: 300 });
    expect(made.status).toBe(201);

    expect(exporter.getFinishedSpans()).toEqual([]);
    const logged = lines.text.split('\n').filter((l) => l.trim() !== '');
    expect(logged.some((l) => l.includes(String(made.headers['x-request-id'])))).toBe(true);
    for (const line of logged) expect(line).not.toMatch(/"(trace_id|span_id)"/);
  });

  it('when a gateway without an endpoint makes a refund, then no OpenTelemetry module is loaded; with one, the SDK and @fastify/otel are', async () => {
    const [off, on] = await Promise.all([moduleLoads(), moduleLoads('http://127.0.0.1:9')]);
    expect([off.status, on.status]).toEqual([201, 201]);
    // The one telemetry module a gateway always loads is the switch that decides not to load the rest.
    expect(off.resolved.some((url) => url.endsWith('/src/telemetry/start-tracing.ts'))).toBe(true);
    expect(off.resolved.filter((url) => OPEN_TELEMETRY.test(url))).toEqual([]);
    const loadedOn = on.resolved.filter((url) => OPEN_TELEMETRY.test(url)).join('\n');
    expect(loadedOn).toContain('/@fastify/otel/');
    expect(loadedOn).toContain('/@opentelemetry/exporter-trace-otlp-proto/');
    expect(loadedOn).toContain('/src/telemetry/tracing-runtime.ts');
  });
});
