// One bounded closed-loop autocannon run over HTTP (the gateway, the bare Fastify route): every answer counted and timed.
import autocannon from 'autocannon';

/** What one request sends; built anew for every request so keys and bodies can vary. */
export interface RequestShape {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  idempotencyKey?: string;
}

export interface Load {
  /** Called once per request, in the load generator, before it is sent. */
  next: () => RequestShape;
  /** Sees every answer, e.g. to collect the refund ids of 201s. */
  onAnswer?: (status: number, body: string, headers: Record<string, string | string[]>) => void;
}

/** What the callers saw in one measured run: the same shape for the gateway, the bare route and the direct SDK. */
export interface Recorded {
  callers: number;
  durationSeconds: number;
  /** Answers received (each a whole operation: one HTTP request here, read + refund for the direct SDK). */
  requests: number;
  requestsPerSecond: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  statuses: Record<string, number>;
  /** The problem+json `code` of every non-2xx answer, counted. */
  errorCodes: Record<string, number>;
  /** Connection errors and timeouts (no HTTP answer at all). */
  errors: number;
  /** CPU the caller itself used (µs per operation): what a service pays on its side. */
  callerCpuUsPerRequest: number;
}

const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Exact percentiles (nearest rank) over every operation's time, not a bucketed histogram. */
export function summarise(latencies: number[]): Recorded['latencyMs'] {
  const sorted = latencies.sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
  return {
    mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
    p50: round(at(50)),
    p90: round(at(90)),
    p99: round(at(99)),
    max: round(sorted.at(-1) ?? 0),
  };
}

/**
 * Runs `load` over `callers` keep-alive connections, closed loop (each sends its next request when its previous answer
 * is in), until `amount` requests were answered or `seconds` passed, whichever comes first. A run cut off by time
 * abandons the requests in flight; the gateway still finishes them, which the caller of this function settles.
 */
export async function fire(
  target: { url: string; apiKey?: string },
  load: Load,
  options: { callers: number; seconds: number; amount?: number; signal: AbortSignal },
): Promise<Recorded> {
  const latencies: number[] = [];
  const errorCodes: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  const amount = options.amount !== undefined ? Math.max(options.amount, options.callers) : undefined;
  // autocannon ends a run on its own once-a-second tick: rates are taken from the first send to the last answer instead.
  let firstSend: number | undefined;
  let lastAnswer = 0;
  const instance = autocannon({
    url: target.url,
    connections: options.callers,
    ...(amount !== undefined ? { amount } : { duration: options.seconds }),
    // A request that hangs this long is counted as a timeout, not waited for: every run ends by itself.
    timeout: 10,
    requests: [
      {
        setupRequest: (request) => {
          firstSend ??= performance.now();
          const shape = load.next();
          const headers: Record<string, string> = {};
          if (target.apiKey !== undefined) headers['authorization'] = `Bearer ${target.apiKey}`;
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
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status >= 300) {
            let code = 'unparsed';
            try {
              code = String((JSON.parse(String(body)) as { code?: unknown }).code ?? 'no_code');
            } catch {
              // Not problem+json (a proxy, a crash page): counted as such.
            }
            errorCodes[`${status} ${code}`] = (errorCodes[`${status} ${code}`] ?? 0) + 1;
          }
          load.onAnswer?.(status, String(body), headers);
        },
      },
    ],
    setupClient: (client) => {
      client.on('response', (_status: number, _bytes: number, ms: number) => {
        latencies.push(ms);
        lastAnswer = performance.now();
      });
    },
  });
  const stop = () => instance.stop();
  options.signal.addEventListener('abort', stop, { once: true });
  const timer = amount !== undefined ? setTimeout(stop, options.seconds * 1000) : undefined;
  const cpu = process.cpuUsage();
  let result: autocannon.Result;
  try {
    result = await instance;
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', stop);
  }
  const wallSeconds = Math.max(1e-3, (lastAnswer - (firstSend ?? lastAnswer)) / 1000);
  const used = process.cpuUsage(cpu);
  const requests = latencies.length;
  return {
    callers: options.callers,
    durationSeconds: round(wallSeconds),
    requests,
    requestsPerSecond: round(requests / wallSeconds, 1),
    latencyMs: summarise(latencies),
    statuses,
    errorCodes,
    errors: result.errors,
    callerCpuUsPerRequest: round((used.user + used.system) / Math.max(1, requests), 1),
  };
}

/**
 * Sends `count` requests of `load` one after another (nothing else in flight), `pauseMs` apart: for exact per-request
 * counts. Returns when each was sent and answered (performance.now()), to tell what happened while a caller waited.
 */
export async function probe(target: { url: string; apiKey: string }, load: Load, count: number, pauseMs = 0): Promise<{ sent: number; answered: number }[]> {
  const timings: { sent: number; answered: number }[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0 && pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    const shape = load.next();
    const sent = performance.now();
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
    const text = await response.text();
    timings.push({ sent, answered: performance.now() });
    load.onAnswer?.(response.status, text, Object.fromEntries(response.headers));
  }
  return timings;
}
