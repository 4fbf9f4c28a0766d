// Per-caller limits on refunds, as pure rules: the most one refund may be, and above what a second person must approve.
import { GatewayError } from './gateway-error.js';

/** Amounts per currency, in minor units; a currency not listed is unlimited. */
export type PerCurrency = Readonly<Record<string, number>>;

/** A caller's limits (config.ts parses them from API_KEYS into this very shape). */
export interface CallerLimits {
  maxAmount: PerCurrency;
  dailyAmount: PerCurrency;
  approvalAbove: PerCurrency;
}

/** A caller's limits by its id; undefined: the caller has none. */
export type LimitsOf = (callerId: string) => CallerLimits | undefined;

export type LimitWindow = 'refund' | 'day';

/** The limit for one currency; `Object.hasOwn` so that no inherited key can ever read as a limit. */
export const limitIn = (amounts: PerCurrency | undefined, currency: string): number | undefined =>
  amounts !== undefined && Object.hasOwn(amounts, currency) ? amounts[currency] : undefined;

/** The UTC day a daily limit counts in, as `YYYY-MM-DD`. */
export const utcDay = (now: Date): string => now.toISOString().slice(0, 10);

export function policyLimitExceeded(input: { window: LimitWindow; amount: number; currency: string; limit: number; remaining: number }): GatewayError {
  const { window, amount, currency, limit, remaining } = input;
  const detail =
    window === 'refund'
      ? `A refund of ${amount} ${currency} is over the ${limit} ${currency} this caller may refund at once.`
      : `A refund of ${amount} ${currency} is over what this caller may still refund today: ${remaining} of its ${limit} ${currency} a day (UTC) are left.`;
  return new GatewayError('policy_limit_exceeded', detail, { fields: { limit, window, currency, remaining } });
}

/** `max_amount`: `remaining` is the limit itself, as the contract says (each refund stands alone). */
export function assertWithinMaxAmount(limits: CallerLimits | undefined, amount: number, currency: string): void {
  const max = limitIn(limits?.maxAmount, currency);
  if (max !== undefined && amount > max) throw policyLimitExceeded({ window: 'refund', amount, currency, limit: max, remaining: max });
}

/** `approval_above`: a refund over it becomes a refund request instead of going to Stripe. */
export function needsApproval(limits: CallerLimits | undefined, amount: number, currency: string): boolean {
  const threshold = limitIn(limits?.approvalAbove, currency);
  return threshold !== undefined && amount > threshold;
}
