// One Idempotency-Key per user intent: a double click, or a re-submit of the same dialog, never refunds twice.

/**
 * A fresh key. crypto.getRandomValues works on plain http too (randomUUID needs a secure context, and the console
 * may be served inside a network without TLS).
 */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** JSON with object keys sorted, so the same request spelled in another key order is the same intent. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The keys of one dialog (one intent): the same request gets the same key however often it is sent — so a retry
 * after a timeout or an error reaches the gateway as the same request and is replayed, not made again — while a
 * changed request (another amount) is another intent with its own key (else the gateway would answer 422).
 */
export class IntentKeys {
  readonly #keys = new Map<string, string>();
  readonly #make: () => string;

  constructor(make: () => string = newIdempotencyKey) {
    this.#make = make;
  }

  keyFor(request: unknown): string {
    const fingerprint = canonicalJson(request);
    let key = this.#keys.get(fingerprint);
    if (key === undefined) {
      key = this.#make();
      this.#keys.set(fingerprint, key);
    }
    return key;
  }
}

/**
 * Runs one action at a time: a call while one runs gets the running one's promise instead of starting another. Held
 * outside the render state, because a second click can arrive before the page re-renders its disabled button.
 */
export class SingleFlight<T> {
  #running: Promise<T> | undefined;

  get busy(): boolean {
    return this.#running !== undefined;
  }

  run(action: () => Promise<T>): Promise<T> {
    if (this.#running) return this.#running;
    const running = action().finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }
}
