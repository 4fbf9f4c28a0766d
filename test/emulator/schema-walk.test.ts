// Every JSON object the emulator returns in a broad scenario validates against Stripe's OpenAPI schemas (../shared/stripe-openapi).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PAYMENTS } from '../../src/emulator/seed.js';
import { advanceClock, createPayment, openDispute, setBankDebits, startEmulatorWithClient, type EmulatorHarness } from '../helpers/emulator.js';
import { flushWebhooks, startWebhookReceiver, type WebhookReceiver } from '../helpers/emulator-events.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SPEC_PATH = resolve(repoRoot, '../shared/stripe-openapi/stripe-refunds-subset.json');

type Schema = Record<string, unknown>;

/** OpenAPI 3.0 `nullable: true` → JSON Schema: `type: [t, 'null']`, or `anyOf: [..., {type: 'null'}]` when there is no `type`. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node as Schema)) {
    if (key === 'nullable' || key.startsWith('x-')) continue;
    // `properties` and similar maps hold schemas under arbitrary names: convert their values, keep their keys.
    out[key] = toJsonSchema(value);
  }
  if ((node as Schema)['nullable'] !== true) return out;
  if (typeof out['type'] === 'string' && out['$ref'] === undefined) {
    const nullable: Schema = { ...out, type: [out['type'], 'null'] };
    if (Array.isArray(out['enum'])) nullable['enum'] = [...(out['enum'] as unknown[]), null];
    return nullable;
  }
  return { anyOf: [out, { type: 'null' }] };
}

const SCHEMA_FOR_OBJECT: Record<string, string> = {
  refund: 'refund',
  charge: 'charge',
  payment_intent: 'payment_intent',
  balance: 'balance',
  dispute: 'dispute',
  account: 'account',
  event: 'event',
  webhook_endpoint: 'webhook_endpoint',
};

// The OpenAPI subset has neither events nor webhook endpoints: these follow stripe-node 23's Event and WebhookEndpoint types
// (Events.d.ts, WebhookEndpoints.d.ts) member by member. The objects inside an event's data are validated by their own schemas.
const nullable = (type: string) => ({ type: [type, 'null'] });
const SDK_SCHEMAS: Record<string, Schema> = {
  event: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'object', 'api_version', 'created', 'data', 'livemode', 'pending_webhooks', 'request', 'type'],
    properties: {
      id: { type: 'string', pattern: '^evt_' },
      object: { const: 'event' },
      account: { type: 'string' },
      context: { type: 'string' },
      api_version: nullable('string'),
      created: { type: 'integer' },
      data: {
        type: 'object',
        additionalProperties: false,
        required: ['object'],
        properties: { object: { type: 'object', required: ['object'] }, previous_attributes: { type: 'object' } },
      },
      livemode: { type: 'boolean' },
      pending_webhooks: { type: 'integer', minimum: 0 },
      request: {
        anyOf: [{ type: 'null' }, { type: 'object', additionalProperties: false, required: ['id', 'idempotency_key'], properties: { id: nullable('string'), idempotency_key: nullable('string') } }],
      },
      type: { type: 'string', pattern: '^[a-z_]+(\\.[a-z_]+)+$' },
    },
  },
  webhook_endpoint: {
    anyOf: [
      {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'object', 'api_version', 'application', 'created', 'description', 'enabled_events', 'livemode', 'metadata', 'status', 'url'],
        properties: {
          id: { type: 'string', pattern: '^we_' },
          object: { const: 'webhook_endpoint' },
          api_version: nullable('string'),
          application: nullable('string'),
          created: { type: 'integer' },
          description: nullable('string'),
          enabled_events: { type: 'array', items: { type: 'string' } },
          livemode: { type: 'boolean' },
          metadata: { type: 'object', additionalProperties: { type: 'string' } },
          secret: { type: 'string', pattern: '^whsec_' },
          status: { enum: ['enabled', 'disabled'] },
          url: { type: 'string' },
        },
      },
      { type: 'object', additionalProperties: false, required: ['id', 'object', 'deleted'], properties: { id: { type: 'string' }, object: { const: 'webhook_endpoint' }, deleted: { const: true } } },
    ],
  },
};

let h: EmulatorHarness;
let receiver: WebhookReceiver;
let ajv: Ajv;
const validators = new Map<string, ValidateFunction>();

beforeAll(async () => {
  const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as { components: Schema };
  ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  ajv.addFormat('unix-time', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
  ajv.addFormat('decimal', /^-?\d+(\.\d+)?$/);
  ajv.addSchema({ $id: 'stripe', components: toJsonSchema(spec.components) });
  for (const name of [...Object.values(SCHEMA_FOR_OBJECT).filter((n) => !(n in SDK_SCHEMAS)), 'error']) {
    const validate = ajv.getSchema(`stripe#/components/schemas/${name}`);
    if (!validate) throw new Error(`schema ${name} missing from ${SPEC_PATH}`);
    validators.set(name, validate);
  }
  for (const [name, schema] of Object.entries(SDK_SCHEMAS)) validators.set(name, ajv.compile(schema));
  receiver = await startWebhookReceiver();
  h = await startEmulatorWithClient({ seed: true, recordResponses: true, maxNetworkRetries: 0, webhooks: [{ url: receiver.url, secret: 'whsec_schemaWalk' }] });
});

afterAll(async () => {
  await h.close();
  await receiver.close();
});

async function broadScenario(stripe: Stripe, url: string): Promise<void> {
  const swallow = (p: Promise<unknown>) => p.catch(() => undefined);
  for (const demo of DEMO_PAYMENTS) {
    await stripe.paymentIntents.retrieve(demo.id, { expand: ['latest_charge'] });
    if (demo.chargeId) await stripe.charges.retrieve(demo.chargeId, { expand: ['refunds', 'payment_intent'] });
  }
  const visa = await createPayment(stripe, { amount: 5000 });
  await stripe.refunds.create({ charge: visa.chargeId, amount: 1000, metadata: { order: '1' }, expand: ['charge', 'payment_intent'] });
  await stripe.refunds.create({ payment_intent: visa.paymentIntent.id, amount: 500, reason: 'duplicate' });
  const list = await stripe.refunds.list({ limit: 3, expand: ['data.charge'] });
  await stripe.refunds.update(list.data[0]?.id ?? '', { metadata: { note: 'x' } });
  await stripe.charges.list({ payment_intent: visa.paymentIntent.id });
  await stripe.charges.list({ limit: 5 });
  await stripe.paymentIntents.list({ limit: 5 });
  const manual = await createPayment(stripe, { amount: 3000, captureMethod: 'manual' });
  await stripe.paymentIntents.capture(manual.paymentIntent.id, { amount_to_capture: 2000, expand: ['latest_charge'] });
  const toCancel = await createPayment(stripe, { amount: 3000, captureMethod: 'manual' });
  await stripe.paymentIntents.cancel(toCancel.paymentIntent.id, { cancellation_reason: 'requested_by_customer' });
  await stripe.refunds.list({ charge: toCancel.chargeId });
  await createPayment(stripe, { paymentMethod: 'pm_card_authenticationRequired', amount: 1200 });
  await stripe.paymentIntents.create({ amount: 1200, currency: 'usd', payment_method: 'pm_card_authenticationRequired', confirm: true, return_url: 'https://example.com/r' });
  await stripe.paymentIntents.create({ amount: 1200, currency: 'usd' });
  await swallow(createPayment(stripe, { paymentMethod: 'pm_card_chargeDeclined' }));
  await swallow(createPayment(stripe, { paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' }));
  const disputed = await createPayment(stripe, { paymentMethod: 'pm_card_createDispute' });
  const disputes = await stripe.disputes.list({ charge: disputed.chargeId, expand: ['data.charge'] });
  await stripe.disputes.retrieve(disputes.data[0]?.id ?? '', { expand: ['payment_intent'] });
  await openDispute(url, visa.chargeId, { inquiry: true });
  await stripe.disputes.list();
  const pending = await createPayment(stripe, { paymentMethod: 'pm_card_pendingRefund' });
  const pendingRefund = await stripe.refunds.create({ charge: pending.chargeId, amount: 100 });
  const failing = await createPayment(stripe, { paymentMethod: 'pm_card_refundFail' });
  const failingRefund = await stripe.refunds.create({ charge: failing.chargeId, amount: 100 });
  await stripe.refunds.retrieve(failingRefund.id);
  await setBankDebits(url, false);
  const shortOfFunds = await createPayment(stripe, { amount: 99_000_000 });
  const waiting = await stripe.refunds.create({ charge: shortOfFunds.chargeId, amount: 50_000_000 });
  await stripe.refunds.retrieve(waiting.id);
  await stripe.topups.create({ amount: 60_000_000, currency: 'usd' });
  await stripe.refunds.retrieve(waiting.id);
  await advanceClock(url, 3 * 24 * 3600);
  await stripe.refunds.retrieve(pendingRefund.id);
  await stripe.balance.retrieve();
  await stripe.accounts.retrieveCurrent();
  const jpy = await createPayment(stripe, { amount: 5000, currency: 'jpy', paymentMethod: 'pm_card_jp' });
  await stripe.refunds.create({ charge: jpy.chargeId, amount: 5000 });
  // Errors, of every family the tests meet.
  await swallow(stripe.refunds.create({ charge: visa.chargeId, amount: 99_999_999 }));
  await swallow(stripe.refunds.create({ charge: jpy.chargeId }));
  await swallow(stripe.refunds.create({ charge: disputed.chargeId }));
  await swallow(stripe.refunds.create({ payment_intent: manual.paymentIntent.id }));
  await swallow(stripe.refunds.create({ payment_intent: toCancel.paymentIntent.id }));
  await swallow(stripe.paymentIntents.cancel(visa.paymentIntent.id));
  await swallow(stripe.refunds.retrieve('re_missing'));
  await swallow(stripe.refunds.create({ charge: visa.chargeId, amount: 0 }));
  await swallow(stripe.refunds.create({ charge: visa.chargeId, amount: 10 }, { idempotencyKey: 'walk' }));
  await swallow(stripe.refunds.create({ charge: visa.chargeId, amount: 11 }, { idempotencyKey: 'walk' }));
  await swallow(stripe.refunds.create({ charge: visa.chargeId, amount: 10 }, { idempotencyKey: 'walk' }));
  // Events (their data objects are checked by the schemas above) and webhook endpoints.
  const endpoint = await stripe.webhookEndpoints.create({ url: 'https://example.com/hook', enabled_events: ['refund.created'], metadata: { a: 'b' } });
  await stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
  await stripe.webhookEndpoints.list();
  await stripe.webhookEndpoints.retrieve(endpoint.id);
  await stripe.webhookEndpoints.del(endpoint.id);
  await flushWebhooks(url);
  const events = await stripe.events.list({ limit: 100 });
  await stripe.events.list({ type: 'refund.*', limit: 5 });
  await stripe.events.retrieve(events.data[0]?.id ?? '');
}

/** Every nested value with an `object` member, plus every error envelope. */
function collect(value: unknown, found: { kind: string; value: unknown }[]): void {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, found);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  if (typeof record['object'] === 'string') found.push({ kind: record['object'], value });
  if ('error' in record && typeof record['error'] === 'object') found.push({ kind: 'error', value });
  for (const child of Object.values(record)) collect(child, found);
}

describe('schema walk', () => {
  it('when a broad scenario has run, then every object the emulator returned validates against the OpenAPI subset', async () => {
    await broadScenario(h.stripe, h.url);
    const responses = h.emulator.control.responses();
    expect(responses.length).toBeGreaterThan(60);
    const found: { kind: string; value: unknown }[] = [];
    for (const r of responses) collect(r.body, found);
    const counts = new Map<string, number>();
    const problems: string[] = [];
    for (const { kind, value } of found) {
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      if (kind === 'list') {
        const list = value as Record<string, unknown>;
        if (!Array.isArray(list['data']) || typeof list['has_more'] !== 'boolean' || typeof list['url'] !== 'string') problems.push(`list without data/has_more/url: ${JSON.stringify(value).slice(0, 200)}`);
        continue;
      }
      const validate = validators.get(kind === 'error' ? 'error' : (SCHEMA_FOR_OBJECT[kind] ?? ''));
      if (!validate) continue;
      if (!validate(value)) {
        const id = (value as { id?: string }).id ?? kind;
        problems.push(`${id}: ${ajv.errorsText(validate.errors, { dataVar: kind })}`);
      }
    }
    expect(problems).toEqual([]);
    for (const kind of ['refund', 'charge', 'payment_intent', 'balance', 'dispute', 'account', 'event', 'webhook_endpoint', 'list', 'error']) {
      expect(counts.get(kind) ?? 0, `no ${kind} was returned`).toBeGreaterThan(0);
    }
    // Only the top-up is outside the subset's schemas; everything else was validated.
    expect([...counts.keys()].filter((k) => k !== 'list' && k !== 'error' && !SCHEMA_FOR_OBJECT[k])).toEqual(['topup']);
  });

  it('when the webhooks of that scenario are read, then every delivered body is an event that validates, its data objects too', () => {
    const found: { kind: string; value: unknown }[] = [];
    for (const hook of receiver.received) collect(JSON.parse(hook.body), found);
    expect(found.filter((f) => f.kind === 'event').length).toBe(receiver.received.length);
    expect(receiver.received.length).toBeGreaterThan(20);
    const problems = found.flatMap(({ kind, value }) => {
      const validate = validators.get(SCHEMA_FOR_OBJECT[kind] ?? '');
      return validate && !validate(value) ? [`${kind}: ${ajv.errorsText(validate.errors)}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it('when an object breaks its schema, then the walk reports it (the validator is not vacuous)', () => {
    const validate = validators.get('refund');
    expect(validate?.({ id: 're_1', object: 'refund', amount: '100', created: 1, currency: 'usd' })).toBe(false);
    expect(validate?.({ id: 're_1', object: 'refund', amount: 100, created: 1, currency: 'usd', charge: null, status: null })).toBe(true);
    expect(validators.get('charge')?.({ id: 'ch_1', object: 'charge' })).toBe(false);
    expect(validators.get('event')?.({ id: 'evt_1', object: 'event', api_version: null, created: 1, data: { object: { object: 'refund' } }, livemode: false, pending_webhooks: 0, request: null, type: 'refund.created' })).toBe(true);
    expect(validators.get('event')?.({ id: 'evt_1', object: 'event', created: 1, data: { object: { object: 'refund' } }, livemode: false, pending_webhooks: 0, request: null, type: 'refund.created' })).toBe(false);
  });
});
