// Rate-limit mode: Stripe's per-account and per-endpoint requests per second, over a sliding one-second window of real time.
import { z } from 'zod';
import { Fifo } from './fifo.js';

export const rateLimitSettingsSchema = z
  .object({
    /** Requests per second over all endpoints (Stripe: 25 in test mode, 100 live). */
    per_second: z.number().int().min(1).optional(),
    /** Requests per second to one endpoint, method + path template (Stripe: 25 by default). */
    per_endpoint_per_second: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((s) => s.per_second !== undefined || s.per_endpoint_per_second !== undefined, { message: 'give per_second, per_endpoint_per_second or both (null turns rate limiting off)' });

export type RateLimitSettings = z.output<typeof rateLimitSettingsSchema>;

const WINDOW_MS = 1000;

/** When the admitted requests of the last second happened; a refused request is not counted (it used nothing). */
class SlidingWindow {
  private readonly times = new Fifo<number>();

  count(nowMs: number): number {
    for (let t = this.times.peek(); t !== undefined && t <= nowMs - WINDOW_MS; t = this.times.peek()) this.times.shift();
    return this.times.size;
  }

  add(nowMs: number): void {
    this.times.push(nowMs);
  }
}

export interface RateLimitStats {
  rate_limit: RateLimitSettings | null;
  /** How many requests were answered 429 `rate_limit` by rate-limit mode (injected faults are not counted here). */
  rate_limited: number;
  by_endpoint: Record<string, number>;
}

export class RateLimiter {
  private settings: RateLimitSettings | null = null;
  private all = new SlidingWindow();
  private endpoints = new Map<string, SlidingWindow>();
  private limited = 0;
  private limitedByEndpoint = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  get current(): RateLimitSettings | null {
    return this.settings === null ? null : { ...this.settings };
  }

  /** null turns it off. A change starts from an empty window and zero counts. */
  configure(settings: RateLimitSettings | null): void {
    this.settings = settings === null ? null : { ...settings };
    this.all = new SlidingWindow();
    this.endpoints = new Map();
    this.limited = 0;
    this.limitedByEndpoint = new Map();
  }

  /** True when the request may go on (and is counted); false when it is over a limit. Off: always true, nothing kept. */
  admit(endpoint: string): boolean {
    const settings = this.settings;
    if (settings === null) return true;
    const nowMs = this.now();
    let window = this.endpoints.get(endpoint);
    if (window === undefined) {
      window = new SlidingWindow();
      this.endpoints.set(endpoint, window);
    }
    const overAll = settings.per_second !== undefined && this.all.count(nowMs) >= settings.per_second;
    const overEndpoint = settings.per_endpoint_per_second !== undefined && window.count(nowMs) >= settings.per_endpoint_per_second;
    if (overAll || overEndpoint) {
      this.limited += 1;
      this.limitedByEndpoint.set(endpoint, (this.limitedByEndpoint.get(endpoint) ?? 0) + 1);
      return false;
    }
    this.all.add(nowMs);
    window.add(nowMs);
    return true;
  }

  stats(): RateLimitStats {
    return { rate_limit: this.current, rate_limited: this.limited, by_endpoint: Object.fromEntries(this.limitedByEndpoint) };
  }
}
