// The daily limit: what a caller refunds per currency and UTC day, reserved in the ledger before Stripe is asked.
import type { Ledger } from './ledger.js';
import { limitIn, policyLimitExceeded, utcDay, type CallerLimits } from './limits.js';

/** A reservation held for one request; its id is the request's derived id, so a retry finds it instead of adding another. */
export interface DailyReservation {
  id: string;
  caller: string;
  currency: string;
  amount: number;
}

export interface DailyLimitsDeps {
  ledger: Ledger;
  now: () => Date;
  /** Told when a reservation could not be given back (it then stays counted: the cap can only be under-used, never passed). */
  onReleaseError?: (error: unknown, reservationId: string) => void;
}

export class DailyLimits {
  readonly #deps: DailyLimitsDeps;

  constructor(deps: DailyLimitsDeps) {
    this.#deps = deps;
  }

  /**
   * Reserves `amount` of the caller's day in one conditional ledger statement, so concurrent refunds of one caller — in
   * this process or any replica, on any charges — can never together pass the cap. A retry of the same request (same
   * `id`) that still holds its reservation reserves nothing more. Throws 403 `policy_limit_exceeded` (window `day`)
   * when the cap would be passed; null when the caller has no daily cap in this currency.
   */
  async reserve(limits: CallerLimits | undefined, input: DailyReservation): Promise<DailyReservation | null> {
    const cap = limitIn(limits?.dailyAmount, input.currency);
    if (cap === undefined) return null;
    const now = this.#deps.now();
    const result = await this.#deps.ledger.reserveDaily({ ...input, day: utcDay(now), cap, now });
    if (!result.reserved) {
      throw policyLimitExceeded({ window: 'day', amount: input.amount, currency: input.currency, limit: cap, remaining: Math.max(0, cap - result.used) });
    }
    return input;
  }

  /** Gives a reservation back: the refund was refused or failed, so it never counted. Best effort (see onReleaseError). */
  async release(reservation: Pick<DailyReservation, 'id'> | null): Promise<void> {
    if (reservation === null) return;
    await this.#deps.ledger
      .releaseDaily(reservation.id, this.#deps.now())
      .catch((error: unknown) => this.#deps.onReleaseError?.(error, reservation.id));
  }

  /** What the caller may still refund today in `currency`; null when it has no daily cap there. Reads, reserves nothing. */
  async remaining(limits: CallerLimits | undefined, caller: string, currency: string): Promise<{ cap: number; remaining: number } | null> {
    const cap = limitIn(limits?.dailyAmount, currency);
    if (cap === undefined) return null;
    const used = await this.#deps.ledger.dailyUsed({ caller, currency, day: utcDay(this.#deps.now()) });
    return { cap, remaining: Math.max(0, cap - used) };
  }
}
