// The "direct" baseline, as its own process: the stripe SDK calling the emulator itself, doing the gateway's safe work.
import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import { STRIPE_API_VERSION } from '../src/config.js';
import { createStripeClient } from '../src/stripe/stripe-client.js';
import { summarise, type Recorded } from './load.js';

// tsx turns source maps on for the whole process, and the SDK reads `new Error().stack` on every call: mapping those
// stacks would charge the baseline a cost the compiled gateway does not pay. The baseline runs as plain JavaScript would.
process.setSourceMapsEnabled(false);

export type DirectMode = 'charge' | 'intent' | 'read';

export interface DirectRun {
  type: 'run';
  mode: DirectMode;
  /** Charge ids (mode charge) or PaymentIntent ids; refunds use each once, reads cycle through them. */
  ids: string[];
  callers: number;
  seconds: number;
}

export interface DirectResult {
  type: 'result';
  recorded: Recorded;
  refundIds: string[];
}

const emulatorUrl = process.env['EMULATOR_URL'] ?? '';
// The very client the gateway builds (same SDK options: retries, timeout, no telemetry), so only the work differs.
const stripe = createStripeClient({
  secretKey: 'sk_test_bench',
  apiBase: emulatorUrl,
  apiVersion: STRIPE_API_VERSION,
  maxNetworkRetries: 2,
  timeoutMs: 10_000,
});
const runId = randomBytes(4).toString('hex');
let sequence = 0;

/** Refunds what is left, after the same checks the gateway makes (refundable, not disputed), with an idempotency key. */
async function refundCharge(id: string): Promise<string> {
  const charge = await stripe.charges.retrieve(id, { expand: ['payment_intent', 'refunds'] });
  if (charge.disputed || charge.amount_captured - charge.amount_refunded <= 0) throw new Error(`charge ${id} is not refundable`);
  const refund = await stripe.refunds.create(
    { charge: id, metadata: { caller: 'direct', request: `${runId}-${sequence}` } },
    { idempotencyKey: `direct-${runId}-${sequence++}` },
  );
  return refund.id;
}

async function refundIntent(id: string): Promise<string> {
  const intent = await stripe.paymentIntents.retrieve(id, { expand: ['latest_charge.refunds'] });
  const charge = intent.latest_charge as Stripe.Charge | null;
  if (intent.status !== 'succeeded' || charge === null || charge.disputed || charge.amount_captured - charge.amount_refunded <= 0) {
    throw new Error(`PaymentIntent ${id} is not refundable`);
  }
  const refund = await stripe.refunds.create(
    { payment_intent: id, metadata: { caller: 'direct', request: `${runId}-${sequence}` } },
    { idempotencyKey: `direct-${runId}-${sequence++}` },
  );
  return refund.id;
}

/** What `GET /v1/payments/pi_…` asks Stripe: the PaymentIntent with its charge and the charge's newest refunds. */
async function readIntent(id: string): Promise<string> {
  await stripe.paymentIntents.retrieve(id, { expand: ['latest_charge.refunds'] });
  return '';
}

async function run(command: DirectRun): Promise<DirectResult> {
  const operation = command.mode === 'charge' ? refundCharge : command.mode === 'intent' ? refundIntent : readIntent;
  const latencies: number[] = [];
  const refundIds: string[] = [];
  const errorCodes: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  const deadline = performance.now() + command.seconds * 1000;
  const limit = command.mode === 'read' ? Number.POSITIVE_INFINITY : command.ids.length;
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const caller = async () => {
    while (performance.now() < deadline && next < limit) {
      const id = command.ids[next++ % command.ids.length] ?? '';
      const t0 = performance.now();
      try {
        const refundId = await operation(id);
        latencies.push(performance.now() - t0);
        if (refundId !== '') refundIds.push(refundId);
        statuses['200'] = (statuses['200'] ?? 0) + 1;
      } catch (error) {
        const e = error as { statusCode?: number; code?: string; message?: string };
        const key = `${e.statusCode ?? 'error'} ${e.code ?? e.message ?? 'unknown'}`;
        errorCodes[key] = (errorCodes[key] ?? 0) + 1;
        statuses[String(e.statusCode ?? 'error')] = (statuses[String(e.statusCode ?? 'error')] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: command.callers }, caller));
  const wallSeconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    type: 'result',
    refundIds,
    recorded: {
      callers: command.callers,
      durationSeconds: Math.round(wallSeconds * 1000) / 1000,
      requests: latencies.length,
      requestsPerSecond: Math.round((latencies.length / wallSeconds) * 10) / 10,
      latencyMs: summarise(latencies),
      statuses,
      errorCodes,
      errors: 0,
      callerCpuUsPerRequest: Math.round(((used.user + used.system) / Math.max(1, latencies.length)) * 10) / 10,
    },
  };
}

process.on('message', (message: DirectRun) => {
  run(message).then(
    (result) => process.send?.(result),
    (error: unknown) => process.send?.({ type: 'error', message: String(error) }),
  );
});
process.send?.({ type: 'ready' });
