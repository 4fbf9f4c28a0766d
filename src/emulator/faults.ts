// Fault injection: for the next N requests matching a method and path, answer an error, wait, reset the connection, or work and then drop or wait.
import { z } from 'zod';

export const FAULT_KINDS = ['error', 'rate_limit', 'lock_timeout', 'delay', 'reset', 'drop_after_work', 'delay_after_work'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** The kinds whose answer is an injected error (and so can carry `Stripe-Should-Retry` and `Retry-After`). */
const ANSWERING_KINDS: readonly FaultKind[] = ['error', 'rate_limit', 'lock_timeout'];

export const faultSpecSchema = z
  .object({
    /** HTTP method to match, or `*` (default). */
    method: z.string().min(1).default('*'),
    /** Exact path (`/v1/refunds`), or a prefix ending in `*` (`/v1/refunds/*`). */
    path: z.string().startsWith('/'),
    /** How many matching requests it applies to. */
    times: z.number().int().min(1).default(1),
    kind: z.enum(FAULT_KINDS),
    /** For `error`: the HTTP status (default 500). */
    status: z.number().int().min(400).max(599).optional(),
    /** For `error`: the error code in the body. */
    code: z.string().min(1).optional(),
    /** For `error`: the `param` in the body (Stripe's over-refund refusal is a 400 with `param: amount` and no code). */
    param: z.string().min(1).optional(),
    /** Only requests whose parameters (a POST's form body, a GET's query) have these top-level values, e.g. one payment's. */
    match: z.record(z.string(), z.string()).optional(),
    message: z.string().min(1).optional(),
    /** Sends `Stripe-Should-Retry: true|false` (lock_timeout always sends true). */
    should_retry: z.boolean().optional(),
    /** Sends `Retry-After: <seconds>` on the answer of an `error`, `rate_limit` or `lock_timeout` fault. */
    retry_after: z.number().int().min(0).optional(),
    /**
     * Wait before acting; for `delay` and `drop_after_work` the wait happens while the idempotency key is held. For
     * `delay_after_work` the work is done first and the wait comes before the answer (a client that dies meanwhile
     * never learns of work that was done).
     */
    delay_ms: z.number().int().min(0).max(600_000).optional(),
  })
  .strict()
  // The other kinds answer nothing (reset, drop_after_work) or answer normally (delay): a header asked for there would silently vanish.
  .refine((spec) => spec.retry_after === undefined || ANSWERING_KINDS.includes(spec.kind), {
    message: 'retry_after applies only to the kinds that answer with an error: error, rate_limit, lock_timeout',
    path: ['retry_after'],
  });

export type FaultSpec = z.input<typeof faultSpecSchema>;
export type Fault = z.output<typeof faultSpecSchema> & { id: string; remaining: number };

export class FaultInjector {
  private faults: Fault[] = [];
  private nextId = 1;
  /** Requests now waiting out a fault's `delay_ms`; `clear()` lets them go on at once. */
  private readonly waiting = new Set<() => void>();

  add(spec: FaultSpec): Fault {
    const parsed = faultSpecSchema.parse(spec);
    const fault: Fault = { ...parsed, method: parsed.method.toUpperCase(), id: `fault_${this.nextId}`, remaining: parsed.times };
    this.nextId += 1;
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Disarms every fault and ends the waits of delayed requests in flight, so a test can hold a request and let it go. */
  clear(): void {
    this.faults = [];
    for (const release of this.waiting) release();
    this.waiting.clear();
  }

  /** A fault's wait: `ms`, or until `clear()`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const release = (): void => {
        clearTimeout(timer);
        this.waiting.delete(release);
        resolve();
      };
      const timer = setTimeout(release, ms).unref();
      this.waiting.add(release);
    });
  }

  /** Consumes one use of the first fault matching this request (oldest first). The common case, no faults, costs nothing. */
  take(method: string, path: string, params: Record<string, unknown> = {}): Fault | undefined {
    if (this.faults.length === 0) return undefined;
    const index = this.faults.findIndex(
      (f) =>
        (f.method === '*' || f.method === method) &&
        matchPath(f.path, path) &&
        Object.entries(f.match ?? {}).every(([name, value]) => params[name] === value),
    );
    const fault = this.faults[index];
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return { ...fault };
  }
}

const matchPath = (pattern: string, path: string): boolean => (pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path);
