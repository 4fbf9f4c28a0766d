// Every /v1 request the emulator received, with what it answered: the resilience tests count attempts and keys here.
export interface LoggedRequest {
  request_id: string;
  method: string;
  path: string;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  idempotency_key: string | null;
  stripe_account: string | null;
  /** The HTTP status answered, or null when the connection was reset or dropped. */
  status: number | null;
  /** The fault applied, if any. */
  fault: string | null;
  /** True when the answer was an idempotent replay. */
  replayed: boolean;
  /** True when rate-limit mode answered 429 (an injected `rate_limit` fault shows in `fault` instead). */
  rate_limited: boolean;
  received_at: number;
}

export interface RequestFilter {
  method?: string;
  path?: string;
  idempotency_key?: string;
}

export class RequestLog {
  private entries: LoggedRequest[] = [];

  constructor(private readonly limit: number) {}

  add(entry: LoggedRequest): LoggedRequest {
    this.entries.push(entry);
    // Bounded for long benchmark runs: keep the newest `limit` entries.
    if (this.entries.length > this.limit * 2) this.entries = this.entries.slice(-this.limit);
    return entry;
  }

  list(filter: RequestFilter = {}): LoggedRequest[] {
    return this.entries
      .filter(
      (e) =>
        (filter.method === undefined || e.method === filter.method.toUpperCase()) &&
        (filter.path === undefined || e.path === filter.path) &&
        (filter.idempotency_key === undefined || e.idempotency_key === filter.idempotency_key),
      )
      .map((e) => ({ ...e }));
  }

  clear(): void {
    this.entries = [];
  }
}
