// Keeps this process's Stripe calls under its share of STRIPE_RATE_LIMIT_PER_SECOND: a burst waits its turn, within its deadline.
import { GatewayError } from '../refunds/gateway-error.js';

export type CallPriority = 'interactive' | 'background';

interface Waiter {
  priority: CallPriority;
  deadline: number;
  resolve: () => void;
  reject: (error: GatewayError) => void;
}

export interface StripePacerOptions {
  /** Calls a second for the whole deployment (STRIPE_RATE_LIMIT_PER_SECOND). */
  ratePerSecond: number;
  now?: () => number;
}

/**
 * A token bucket per process. Its rate is the deployment's rate divided by the replicas that share it (told through
 * `setReplicas`, from the ledger's heartbeats): nothing is asked of the database per call. The bucket holds a tenth of a
 * second's tokens: any one-second window (Stripe counts per second) then sees at most 1.1 × the rate, which the
 * defaults (20 of Stripe's 25 in test mode, 80 of 100 live) keep under Stripe's own limit. Interactive calls are served before background work (reconciliation,
 * batch items); a call that could not be served before its deadline is refused at once, never sent late.
 */
export class StripePacer {
  readonly #rate: number;
  readonly #now: () => number;
  #share: number;
  #tokens: number;
  #refilledAt: number;
  readonly #queues: Record<CallPriority, Waiter[]> = { interactive: [], background: [] };
  #timer: NodeJS.Timeout | undefined;

  constructor(options: StripePacerOptions) {
    this.#rate = options.ratePerSecond;
    this.#now = options.now ?? Date.now;
    this.#share = this.#rate;
    this.#tokens = this.#capacity();
    this.#refilledAt = this.#now();
  }

  /** This process's calls a second: the deployment's rate shared by `replicas` processes. */
  get share(): number {
    return this.#share;
  }

  setReplicas(replicas: number): void {
    this.#refill();
    this.#share = this.#rate / Math.max(1, replicas);
    this.#tokens = Math.min(this.#tokens, this.#capacity());
  }

  /** Resolves when the call may go; throws `upstream_unavailable` (with retry-after) if that would be after `deadline`. */
  take(priority: CallPriority = 'interactive', deadline = Number.POSITIVE_INFINITY): Promise<void> {
    this.#refill();
    const ahead = this.#queues.interactive.length + (priority === 'background' ? this.#queues.background.length : 0);
    if (ahead === 0 && this.#tokens >= 1) {
      this.#tokens -= 1;
      return Promise.resolve();
    }
    // When this call's token would come, if every call ahead of it takes one first.
    const readyAt = this.#now() + ((ahead + 1 - this.#tokens) / this.#share) * 1000;
    if (readyAt > deadline) return Promise.reject(this.#refusal());
    return new Promise<void>((resolve, reject) => {
      this.#queues[priority].push({ priority, deadline, resolve, reject });
      this.#wake();
    });
  }

  /** How many calls wait for a turn right now, by priority. */
  waiting(): Record<CallPriority, number> {
    return { interactive: this.#queues.interactive.length, background: this.#queues.background.length };
  }

  #capacity(): number {
    return Math.max(1, Math.floor(this.#share / 10));
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#capacity(), this.#tokens + ((now - this.#refilledAt) / 1000) * this.#share);
    this.#refilledAt = now;
  }

  #wake(): void {
    if (this.#timer) return;
    this.#refill();
    const waitMs = this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) / this.#share) * 1000);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#serve();
    }, waitMs);
  }

  #serve(): void {
    this.#refill();
    const now = this.#now();
    for (const queue of [this.#queues.interactive, this.#queues.background]) {
      // Whoever can no longer make it is told now rather than when its turn comes.
      for (let i = queue.length - 1; i >= 0; i -= 1) {
        const waiter = queue[i]!;
        if (waiter.deadline < now) {
          queue.splice(i, 1);
          waiter.reject(this.#refusal());
        }
      }
    }
    while (this.#tokens >= 1) {
      const next = this.#queues.interactive.shift() ?? this.#queues.background.shift();
      if (!next) break;
      this.#tokens -= 1;
      next.resolve();
    }
    if (this.#queues.interactive.length + this.#queues.background.length > 0) this.#wake();
  }

  #refusal(): GatewayError {
    const waiting = this.#queues.interactive.length + this.#queues.background.length;
    return new GatewayError(
      'upstream_unavailable',
      'The gateway is at its Stripe rate limit and this request could not have its turn in time; nothing was sent to Stripe. Retry shortly.',
      { retryAfterSeconds: Math.max(1, Math.ceil(waiting / this.#share)) },
    );
  }
}
