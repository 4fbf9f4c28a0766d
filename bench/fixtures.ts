// Test data made the way a shop makes it (the real stripe SDK against the emulator), and the end-of-run money checks.
import Stripe from 'stripe';
import { STRIPE_API_VERSION } from '../src/config.js';

export interface Payment {
  intent: string;
  charge: string;
  amount: number;
}

export function sdkFor(emulatorUrl: string): Stripe {
  const url = new URL(emulatorUrl);
  return new Stripe('sk_test_bench', {
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    telemetry: false,
    apiVersion: STRIPE_API_VERSION as Stripe.LatestApiVersion,
    // A failed setup call should fail the run, not hide behind retries.
    maxNetworkRetries: 0,
  });
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of the results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** `count` confirmed, captured card payments of `amount` each. */
export async function createPayments(stripe: Stripe, count: number, amount: number, paymentMethod = 'pm_card_visa'): Promise<Payment[]> {
  return mapLimit(Array.from({ length: count }), 16, async () => {
    const intent = await stripe.paymentIntents.create({
      amount,
      currency: 'usd',
      payment_method: paymentMethod,
      allowed_payment_method_types: ['card'],
      confirm: true,
    });
    const charge = typeof intent.latest_charge === 'string' ? intent.latest_charge : intent.latest_charge?.id;
    if (intent.status !== 'succeeded' || !charge) throw new Error(`payment ${intent.id} is ${intent.status}, not succeeded`);
    return { intent: intent.id, charge, amount };
  });
}

/** One call to the gateway outside the load (set-up), failing loudly on an unexpected status. */
export async function gatewayCall(
  gatewayUrl: string,
  apiKey: string,
  request: { method: 'GET' | 'POST'; path: string; body?: unknown; idempotencyKey?: string; expect: number },
): Promise<unknown> {
  const response = await fetch(`${gatewayUrl}${request.path}`, {
    method: request.method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(request.idempotencyKey !== undefined ? { 'idempotency-key': request.idempotencyKey } : {}),
    },
    ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status !== request.expect) throw new Error(`${request.method} ${request.path}: expected ${request.expect}, got ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

export interface CapCheck {
  ok: boolean;
  charges: number;
  /** Refunds at Stripe (the emulator) on these charges that the gateway made. */
  refundsAtStripe: number;
  /** Distinct refund ids the load generator received in 201 answers. */
  refundsSeen: number;
  /** Refunds made whose answer the load generator never read: requests in flight when a run stopped. */
  refundsUnseen: number;
  /** Smallest amount still refundable on any of the charges: proof that no payment ran out during the run. */
  minRefundableLeft: number;
  problems: string[];
}

/**
 * Reads every charge and its refunds back from Stripe (not from the gateway): the refunds that count must add up to
 * the charge's `amount_refunded` and never exceed `amount_captured`, and every refund the load saw must exist there.
 */
export async function checkRefundCaps(stripe: Stripe, charges: readonly string[], seen: ReadonlyMap<string, string>): Promise<CapCheck> {
  const problems: string[] = [];
  let refundsAtStripe = 0;
  let minLeft = Number.POSITIVE_INFINITY;
  const atStripe = new Set<string>();
  await mapLimit(charges, 8, async (id) => {
    const charge = await stripe.charges.retrieve(id);
    const refunds: Stripe.Refund[] = [];
    // The contention scenario leaves thousands on one charge, more than autoPagingToArray will collect.
    await stripe.refunds.list({ charge: id, limit: 100 }).autoPagingEach((refund) => {
      refunds.push(refund);
    });
    const counted = refunds.filter((r) => r.status !== 'failed' && r.status !== 'canceled');
    const total = counted.reduce((sum, r) => sum + r.amount, 0);
    for (const r of refunds) if (r.metadata?.['gateway_caller'] !== undefined) atStripe.add(r.id);
    refundsAtStripe += refunds.filter((r) => r.metadata?.['gateway_caller'] !== undefined).length;
    minLeft = Math.min(minLeft, charge.amount_captured - charge.amount_refunded);
    if (total > charge.amount_captured) problems.push(`${id}: refunds add up to ${total} > captured ${charge.amount_captured}`);
    if (total !== charge.amount_refunded) problems.push(`${id}: refunds add up to ${total} but amount_refunded is ${charge.amount_refunded}`);
  });
  const missing = [...seen.keys()].filter((refundId) => !atStripe.has(refundId));
  if (missing.length > 0) problems.push(`${missing.length} refunds answered 201 are not at Stripe (e.g. ${missing[0]})`);
  return {
    ok: problems.length === 0,
    charges: charges.length,
    refundsAtStripe,
    refundsSeen: seen.size,
    refundsUnseen: refundsAtStripe - (seen.size - missing.length),
    minRefundableLeft: Number.isFinite(minLeft) ? minLeft : 0,
    problems: problems.slice(0, 10),
  };
}

/** The newest refund on the whole account, to prove that a scenario created none. */
export async function newestRefundId(stripe: Stripe): Promise<string | null> {
  const page = await stripe.refunds.list({ limit: 1 });
  return page.data[0]?.id ?? null;
}

/** Makes every /v1 answer of the emulator wait `delayMs` first (its `delay` fault, for as many requests as a run makes). */
export async function addStripeDelay(emulatorUrl: string, delayMs: number): Promise<void> {
  const response = await fetch(`${emulatorUrl}/_emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path: '/v1/*', kind: 'delay', delay_ms: delayMs, times: 1_000_000_000 }),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`the emulator refused the delay fault: ${response.status} ${await response.text()}`);
}
