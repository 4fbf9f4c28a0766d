// The emulator's side of the run: payments made before the load, and the money checks read back from it afterwards.
import { Agent, request } from 'node:http';

export interface Payment {
  intent: string;
  charge: string;
  amount: number;
}

// Set-up calls go over a few kept-alive connections: the payments are many, and making them is not what is measured.
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** One call to the emulator (form body in, JSON out), failing on anything but 200. */
export function emulatorCall(baseUrl: string, method: 'GET' | 'POST' | 'DELETE', path: string, form?: Record<string, string>, json?: unknown): Promise<unknown> {
  const url = new URL(path, baseUrl);
  const body = form !== undefined ? new URLSearchParams(form).toString() : json !== undefined ? JSON.stringify(json) : '';
  const headers: Record<string, string> = { authorization: 'Bearer sk_test_bench' };
  if (body !== '') {
    headers['content-type'] = form !== undefined ? 'application/x-www-form-urlencoded' : 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`emulator ${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`));
        resolve(JSON.parse(text) as unknown);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`emulator ${method} ${path}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** `count` confirmed, captured card payments of `amount` each, made 8 at a time. */
export async function createPayments(emulatorUrl: string, count: number, amount: number): Promise<Payment[]> {
  const payments = new Array<Payment>(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const intent = (await emulatorCall(emulatorUrl, 'POST', '/v1/payment_intents', {
        amount: String(amount),
        currency: 'usd',
        payment_method: 'pm_card_visa',
        'allowed_payment_method_types[0]': 'card',
        confirm: 'true',
      })) as { id: string; status: string; latest_charge: string | null };
      if (intent.status !== 'succeeded' || intent.latest_charge === null) throw new Error(`payment ${intent.id} is ${intent.status}, not succeeded`);
      payments[i] = { intent: intent.id, charge: intent.latest_charge, amount };
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, count) }, worker));
  return payments;
}

/** Back to an empty emulator (no objects, no idempotency keys, an empty request log): each part of a run starts alike. */
export async function resetEmulator(emulatorUrl: string): Promise<void> {
  await emulatorCall(emulatorUrl, 'POST', '/_emulator/reset');
}

/** The /v1 requests the emulator logged since the last clear, then clears the log. */
export async function takeStripeRequests(emulatorUrl: string): Promise<{ method: string; path: string }[]> {
  const log = (await emulatorCall(emulatorUrl, 'GET', '/_emulator/requests')) as { data: { method: string; path: string }[] };
  await emulatorCall(emulatorUrl, 'DELETE', '/_emulator/requests');
  return log.data.filter((r) => r.path.startsWith('/v1/'));
}

interface ListPage<T> {
  data: T[];
  has_more: boolean;
}

async function listAll<T extends { id: string }>(emulatorUrl: string, path: string): Promise<T[]> {
  const all: T[] = [];
  for (let after: string | undefined; ; ) {
    const page = (await emulatorCall(emulatorUrl, 'GET', `${path}?limit=100${after ? `&starting_after=${after}` : ''}`)) as ListPage<T>;
    all.push(...page.data);
    if (!page.has_more || page.data.length === 0) return all;
    after = page.data.at(-1)?.id;
  }
}

export interface MoneyCheck {
  ok: boolean;
  charges: number;
  refundsAtStripe: number;
  /** Refund ids the callers received in 201 answers. */
  refundsAnswered: number;
  /** Refunds made whose answer no caller read: requests in flight when a time-capped run was cut off. */
  refundsUnanswered: number;
  problems: string[];
}

/**
 * Reads every charge and refund back from the emulator (Stripe's side, not the gateway's): on each charge the
 * refunds that count add up to `amount_refunded` and never exceed `amount_captured`; a charge that was asked for one
 * refund has at most one; every refund answered 201 exists.
 */
export async function checkMoney(emulatorUrl: string, answered: ReadonlySet<string>, askedOnce: ReadonlySet<string>): Promise<MoneyCheck> {
  const charges = await listAll<{ id: string; amount_captured: number; amount_refunded: number }>(emulatorUrl, '/v1/charges');
  const refunds = await listAll<{ id: string; charge: string; amount: number; status: string }>(emulatorUrl, '/v1/refunds');
  const problems: string[] = [];
  const byCharge = new Map<string, { total: number; count: number }>();
  for (const r of refunds) {
    const entry = byCharge.get(r.charge) ?? { total: 0, count: 0 };
    if (r.status !== 'failed' && r.status !== 'canceled') entry.total += r.amount;
    entry.count += 1;
    byCharge.set(r.charge, entry);
  }
  for (const charge of charges) {
    const { total, count } = byCharge.get(charge.id) ?? { total: 0, count: 0 };
    if (total > charge.amount_captured) problems.push(`${charge.id}: refunds add up to ${total} > captured ${charge.amount_captured}`);
    if (total !== charge.amount_refunded) problems.push(`${charge.id}: refunds add up to ${total} but amount_refunded is ${charge.amount_refunded}`);
    if (askedOnce.has(charge.id) && count > 1) problems.push(`${charge.id}: asked for one refund, has ${count}`);
  }
  const atStripe = new Set(refunds.map((r) => r.id));
  const missing = [...answered].filter((id) => !atStripe.has(id));
  if (missing.length > 0) problems.push(`${missing.length} refunds answered 201 are not at Stripe (e.g. ${missing[0]})`);
  return {
    ok: problems.length === 0,
    charges: charges.length,
    refundsAtStripe: refunds.length,
    refundsAnswered: answered.size,
    refundsUnanswered: refunds.length - (answered.size - missing.length),
    problems: problems.slice(0, 10),
  };
}
