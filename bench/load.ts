// One bounded autocannon run against the gateway: every request built fresh, every answer counted (status, error code).
import autocannon from 'autocannon';

/** What one request of a scenario sends; built anew for every request so keys and bodies can vary. */
export interface RequestShape {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  idempotencyKey?: string;
}

export interface Load {
  /** Called once per request, in the load generator, before it is sent. */
  next: () => RequestShape;
  /** Sees every answer (after the recorder), e.g. to collect the refund ids of 201s. */
  onAnswer?: (status: number, body: string) => void;
}

export interface Recorded {
  durationSeconds: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { mean: number; p50: number; p97_5: number; p99: number; max: number };
  /** autocannon's own histogram (whole milliseconds), kept as a cross-check of the exact percentiles above. */
  autocannonLatencyMs: { p50: number; p97_5: number; p99: number };
  statuses: Record<string, number>;
  /** The problem+json `code` of every non-2xx answer, counted. */
  errorCodes: Record<string, number>;
  /** Answers carrying `idempotent-replayed: true`. */
  replayed: number;
  /** Connection errors and timeouts (no HTTP answer at all). */
  errors: number;
  timeouts: number;
}

/** Exact percentile of sorted values (nearest rank). */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

const bump = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/**
 * Runs `load` for `seconds` over `connections` keep-alive connections (closed loop: each connection sends its next
 * request when the previous answer is in), then reports. Stops early, with what it has, when `signal` aborts.
 */
export async function fire(
  target: { url: string; apiKey: string },
  load: Load,
  options: { connections: number; seconds: number; signal: AbortSignal },
): Promise<Recorded> {
  const latencies: number[] = [];
  const errorCodes: Record<string, number> = {};
  let replayed = 0;

  const instance = autocannon({
    url: target.url,
    connections: options.connections,
    duration: options.seconds,
    // A request that hangs this long is counted as a timeout, not waited for: every run ends by itself.
    timeout: 10,
    requests: [
      {
        setupRequest: (request) => {
          const shape = load.next();
          const headers: Record<string, string> = { authorization: `Bearer ${target.apiKey}` };
          if (shape.body !== undefined) headers['content-type'] = 'application/json';
          if (shape.idempotencyKey !== undefined) headers['idempotency-key'] = shape.idempotencyKey;
          return {
            ...request,
            method: shape.method,
            path: shape.path,
            headers,
            body: shape.body === undefined ? Buffer.alloc(0) : JSON.stringify(shape.body),
          };
        },
        onResponse: (status, body, _context, headers) => {
          if (headers['idempotent-replayed'] === 'true') replayed += 1;
          if (status >= 300) {
            let code = 'unparsed';
            try {
              code = String((JSON.parse(String(body)) as { code?: unknown }).code ?? 'no_code');
            } catch {
              // Not problem+json (a proxy, a crash page): counted as such.
            }
            bump(errorCodes, `${status} ${code}`);
          }
          load.onAnswer?.(status, String(body));
        },
      },
    ],
    setupClient: (client) => {
      client.on('response', (_status: number, _bytes: number, ms: number) => latencies.push(ms));
    },
  });
  const abort = () => instance.stop();
  options.signal.addEventListener('abort', abort, { once: true });
  let result: autocannon.Result;
  try {
    result = await instance;
  } finally {
    options.signal.removeEventListener('abort', abort);
  }

  const sorted = latencies.sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) statuses[status] = Number(count);
  const requests = sorted.length;
  return {
    durationSeconds: result.duration,
    requests,
    requestsPerSecond: round(requests / result.duration, 1),
    latencyMs: {
      mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, requests)),
      p50: round(percentile(sorted, 50)),
      p97_5: round(percentile(sorted, 97.5)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted.at(-1) ?? 0),
    },
    autocannonLatencyMs: { p50: result.latency.p50, p97_5: result.latency.p97_5, p99: result.latency.p99 },
    statuses,
    errorCodes,
    replayed,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/**
 * Sends `count` requests of `load` one after another (nothing else in flight), through the same hooks as the load.
 * Used to count Stripe calls per request exactly: under load, requests cut off when a run stops still make their
 * Stripe calls but never reach the gateway's request metrics, which skews any ratio taken over the load window.
 */
export async function probe(target: { url: string; apiKey: string }, load: Load, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const shape = load.next();
    const response = await fetch(`${target.url}${shape.path}`, {
      method: shape.method,
      headers: {
        authorization: `Bearer ${target.apiKey}`,
        ...(shape.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(shape.idempotencyKey !== undefined ? { 'idempotency-key': shape.idempotencyKey } : {}),
      },
      ...(shape.body !== undefined ? { body: JSON.stringify(shape.body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    load.onAnswer?.(response.status, await response.text());
  }
}
