// GET /v1/events and /v1/events/:id: Stripe's paging, the type (with *), types[], created and delivery_success filters, refusals, 30 days kept.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { advanceClock, createPayment, emulatorNow, fail, startEmulatorWithClient, useEmulator } from '../helpers/emulator.js';
import { allEvents } from '../helpers/emulator-events.js';

const h = useEmulator({ maxNetworkRetries: 0 });

/** `count` refunds of one charge: 2 events each (refund.created, charge.refunded). */
async function makeRefunds(stripe: Stripe, count: number): Promise<string[]> {
  const { chargeId } = await createPayment(stripe, { amount: 100_000 });
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) ids.push((await stripe.refunds.create({ charge: chargeId, amount: 100 })).id);
  return ids;
}

const get = async (url: string, path: string) => {
  const res = await fetch(`${url}${path}`, { headers: { authorization: 'Bearer sk_test_emulatorSuiteKey' } });
  return { status: res.status, body: (await res.json()) as { error?: { code?: string; param?: string; type?: string }; data?: { id: string }[]; has_more?: boolean; url?: string } };
};

describe('paging', () => {
  it('when no limit is given, then 10 events come, newest first, with has_more and url /v1/events', async () => {
    await makeRefunds(h.stripe, 6);
    const page = await h.stripe.events.list();
    expect(page).toMatchObject({ object: 'list', has_more: true, url: '/v1/events' });
    expect(page.data).toHaveLength(10);
    const created = page.data.map((e) => e.created);
    expect([...created].sort((a, b) => b - a)).toEqual(created);
  });

  it('when paging with starting_after and ending_before, then the pages tile the whole log without gaps or repeats', async () => {
    await makeRefunds(h.stripe, 5);
    const all = (await h.stripe.events.list({ limit: 100 })).data.map((e) => e.id);
    expect(all).toHaveLength(10);
    const first = await h.stripe.events.list({ limit: 4 });
    const second = await h.stripe.events.list({ limit: 4, starting_after: first.data.at(-1)?.id ?? '' });
    const third = await h.stripe.events.list({ limit: 4, starting_after: second.data.at(-1)?.id ?? '' });
    expect([first, second, third].map((p) => p.has_more)).toEqual([true, true, false]);
    expect([...first.data, ...second.data, ...third.data].map((e) => e.id)).toEqual(all);
    const back = await h.stripe.events.list({ limit: 4, ending_before: third.data[0]?.id ?? '' });
    expect(back.data.map((e) => e.id)).toEqual(second.data.map((e) => e.id));
    expect(back.has_more).toBe(true);
    const auto = await h.stripe.events.list({ limit: 3 }).autoPagingToArray({ limit: 100 });
    expect(auto.map((e) => e.id)).toEqual(all);
  });

  it('when limit is 100, then it is accepted; 0 or 101 is 400 parameter_invalid_integer naming limit', async () => {
    expect((await h.stripe.events.list({ limit: 100 })).data).toEqual([]);
    for (const limit of [0, 101]) expect(await fail(h.stripe.events.list({ limit }))).toMatchObject({ statusCode: 400, code: 'parameter_invalid_integer', param: 'limit' });
  });

  it('when the cursor is not a known event, then 404 resource_missing names the cursor parameter', async () => {
    expect(await fail(h.stripe.events.list({ starting_after: 'evt_nope' }))).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'starting_after' });
  });
});

describe('filters', () => {
  it('when filtered by an exact type, then only that type comes', async () => {
    await makeRefunds(h.stripe, 3);
    const page = await h.stripe.events.list({ type: 'charge.refunded' });
    expect(page.data).toHaveLength(3);
    expect(new Set(page.data.map((e) => e.type))).toEqual(new Set(['charge.refunded']));
  });

  it('when filtered by type with Stripe\'s * wildcard, then refund.* matches every refund event and charge.* also charge.refund.updated', async () => {
    const [refundId] = await makeRefunds(h.stripe, 1);
    await h.stripe.refunds.update(refundId ?? '', { metadata: { a: 'b' } });
    const types = async (type: string) => (await allEvents(h.stripe, { type })).map((e) => e.type);
    expect(await types('refund.*')).toEqual(['refund.created', 'refund.updated']);
    expect(await types('charge.*')).toEqual(['charge.refunded', 'charge.refund.updated']);
    expect(await types('*.updated')).toEqual(['refund.updated', 'charge.refund.updated']);
    expect(await types('payment_intent.*')).toEqual([]);
  });

  it('when filtered by types[], then any of the named types comes; more than 20 is a 400', async () => {
    const [refundId] = await makeRefunds(h.stripe, 1);
    await h.stripe.refunds.update(refundId ?? '', { metadata: { a: 'b' } });
    expect((await allEvents(h.stripe, { types: ['refund.created', 'refund.updated'] })).map((e) => e.type)).toEqual(['refund.created', 'refund.updated']);
    const many = Array.from({ length: 21 }, (_, i) => `refund.t${i}`);
    expect(await fail(h.stripe.events.list({ types: many }))).toMatchObject({ statusCode: 400, param: 'types' });
  });

  it('when both type and types are given, then 400 parameters_exclusive', async () => {
    expect(await fail(h.stripe.events.list({ type: 'refund.created', types: ['refund.created'] }))).toMatchObject({ statusCode: 400, code: 'parameters_exclusive' });
  });

  it('when filtered by created (an instant or a range), then only events of those seconds come', async () => {
    await makeRefunds(h.stripe, 1);
    const t0 = await emulatorNow(h.url);
    await advanceClock(h.url, 100);
    await makeRefunds(h.stripe, 1);
    const times = async (created: Stripe.RangeQueryParam | number) => (await allEvents(h.stripe, { created })).map((e) => e.created);
    const all = await times({ gte: 0 });
    expect(all).toHaveLength(4);
    const late = all.filter((t) => t > t0 + 50);
    expect(late).toHaveLength(2);
    expect(await times({ gt: t0 + 50 })).toEqual(late);
    expect(await times({ lte: t0 + 50 })).toEqual(all.filter((t) => t <= t0 + 50));
    expect(await times(late[0] ?? 0)).toEqual(late.filter((t) => t === late[0]));
  });

  it('when an unknown parameter is sent, then 400 parameter_unknown names it, as on every other list', async () => {
    const answer = await get(h.url, '/v1/events?status=pending');
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'parameter_unknown', param: 'status' });
    expect((await get(h.url, '/v1/events?created[between]=1')).body.error).toMatchObject({ code: 'parameter_unknown', param: 'created[between]' });
  });

  it('when the query uses expand[]=data.x, then it is refused: an event\'s data is a snapshot that expands nothing', async () => {
    expect((await get(h.url, '/v1/events?expand[]=data.object')).status).toBe(400);
  });
});

describe('one event', () => {
  it('when retrieved by id, then it is the listed event; an unknown id is 404 resource_missing', async () => {
    await makeRefunds(h.stripe, 1);
    const [newest] = (await h.stripe.events.list({ limit: 1 })).data;
    const one = await h.stripe.events.retrieve(newest?.id ?? '');
    expect(one.id).toBe(newest?.id);
    expect(one.data).toEqual(newest?.data);
    expect(await fail(h.stripe.events.retrieve('evt_missing'))).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'id', message: "No such event: 'evt_missing'" });
  });
});

describe('retention', () => {
  it('when 30 days of emulator clock pass, then older events are gone from the list and from retrieval', async () => {
    await makeRefunds(h.stripe, 1);
    const [old] = (await h.stripe.events.list({ limit: 1 })).data;
    await advanceClock(h.url, 29 * 24 * 3600);
    expect((await h.stripe.events.retrieve(old?.id ?? '')).id).toBe(old?.id);
    await makeRefunds(h.stripe, 1);
    await advanceClock(h.url, 2 * 24 * 3600);
    expect((await allEvents(h.stripe)).map((e) => e.type)).toEqual(['refund.created', 'charge.refunded']);
    expect(await fail(h.stripe.events.retrieve(old?.id ?? ''))).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('when more events are made than eventLimit, then the oldest go first', async () => {
    const small = await startEmulatorWithClient({ eventLimit: 10, maxNetworkRetries: 0 });
    try {
      const refundIds = await makeRefunds(small.stripe, 30);
      const kept = await allEvents(small.stripe);
      expect(kept.length).toBeGreaterThanOrEqual(10);
      expect(kept.length).toBeLessThanOrEqual(11);
      expect((kept.at(-1)?.data.object as { id?: string }).id).toBeDefined();
      const newestRefund = kept.filter((e) => e.type === 'refund.created').at(-1)?.data.object as Stripe.Refund;
      expect(newestRefund.id).toBe(refundIds.at(-1));
      expect(kept.some((e) => (e.data.object as { id?: string }).id === refundIds[0])).toBe(false);
    } finally {
      await small.close();
    }
  });
});
