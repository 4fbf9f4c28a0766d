// Four-eyes approval through HTTP on the emulator: 202 refund requests, approve, reject, expiry, races, and what events say.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createPayment, KEYS, refundPosts, type TestGateway } from '../helpers/gateway.js';
import { decide, newKey, OPS_KEYS, refundAs, startOpsGateway } from '../helpers/operations.js';
import { sampleValue } from '../helpers/prometheus.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startOpsGateway();
});
afterAll(async () => {
  await gw?.close();
});

/** The refunds the gateway asked Stripe for (a Dashboard refund made by a test has no gateway metadata). */
const postsFor = (g: TestGateway, intent: string) =>
  refundPosts(g.emulator).filter((r) => r.body.payment_intent === intent && (r.body.metadata as Record<string, string> | undefined)?.gateway_caller !== undefined);

/** A payment and a refund request for `amount` of it, made by support-desk (or `requester`). */
async function requested(g: TestGateway = gw, amount = 30_000, requester: string = OPS_KEYS.desk) {
  const p = await createPayment(g.stripe, { amount: 40_000 });
  const res = await refundAs(g, requester, { payment_intent: p.intent, amount });
  expect(res.status).toBe(202);
  return { payment: p, request: res.body as { id: string } & Record<string, unknown> };
}

describe('a refund over approval_above', () => {
  it('when it is asked for, then 202 with the request as the contract shapes it, nothing at Stripe, and a replay answers the same 202', async () => {
    const p = await createPayment(gw.stripe, { amount: 40_000 });
    const key = newKey('rr');
    const body = { payment_intent: p.intent, amount: 30_000, reason: 'requested_by_customer', metadata: { ticket: 'T-9' } };
    const res = await refundAs(gw, OPS_KEYS.desk, body, key);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^rr_[0-9a-f]{24}$/),
      status: 'awaiting_approval',
      request: body,
      amount: 30_000,
      currency: 'usd',
      requested_by: 'support-desk',
      decided_by: null,
      decision_note: null,
      refund: null,
      problem: null,
      created: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      decided_at: null,
      expires_at: expect.stringMatching(/Z$/),
    });
    // APPROVAL_TTL_HOURS defaults to 72.
    expect(Date.parse(res.body.expires_at) - Date.parse(res.body.created)).toBe(72 * 3_600_000);
    expect(postsFor(gw, p.intent)).toHaveLength(0);

    const replay = await refundAs(gw, OPS_KEYS.desk, body, key);
    expect(replay.status).toBe(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(res.body);
    expect((await gw.http.get('/v1/refund-requests?requested_by=support-desk&limit=100').set(auth(OPS_KEYS.finance))).body.data.filter(
      (r: { id: string }) => r.id === res.body.id,
    )).toHaveLength(1);
  });

  it('when it is asked for, then /metrics counts it as requested, not created, and no money as refunded', async () => {
    const labels = { outcome: 'requested', caller: 'support-desk' };
    const money = { currency: 'usd', caller: 'support-desk' };
    const before = (await gw.http.get('/metrics')).text;
    await requested();
    const after = (await gw.http.get('/metrics')).text;
    expect(sampleValue(after, 'gateway_refunds_total', labels) - sampleValue(before, 'gateway_refunds_total', labels)).toBe(1);
    expect(sampleValue(after, 'gateway_refunds_total', { outcome: 'created', caller: 'support-desk' })).toBe(
      sampleValue(before, 'gateway_refunds_total', { outcome: 'created', caller: 'support-desk' }),
    );
    expect(sampleValue(after, 'gateway_refunded_amount_minor_units_total', money)).toBe(sampleValue(before, 'gateway_refunded_amount_minor_units_total', money));
  });

  it('when it is read by id or listed, then it is there with its status; an unknown id is 404 and a malformed one 400', async () => {
    const { request } = await requested();
    const read = await gw.http.get(`/v1/refund-requests/${request.id}`).set(auth(KEYS.support));
    expect(read.status).toBe(200);
    expect(read.body).toEqual(request);
    const awaiting = await gw.http.get('/v1/refund-requests?status=awaiting_approval&limit=100').set(auth(KEYS.support));
    expect(awaiting.body.data.map((r: { id: string }) => r.id)).toContain(request.id);
    expect((await gw.http.get('/v1/refund-requests/rr_doesNotExist1').set(auth(KEYS.support))).body.code).toBe('not_found');
    expect((await gw.http.get('/v1/refund-requests/re_notARequest').set(auth(KEYS.support))).status).toBe(400);
    expect((await gw.http.get('/v1/refund-requests?status=pending').set(auth(KEYS.support))).status).toBe(400);
  });
});

describe('approving', () => {
  it('when another caller approves, then the refund is made for the requester, once, and the request says who decided and why', async () => {
    const { payment, request } = await requested();
    const res = await decide(gw, OPS_KEYS.finance, request.id, 'approve', { note: 'checked with the customer' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: request.id,
      status: 'approved',
      decided_by: 'finance',
      decision_note: 'checked with the customer',
      problem: null,
      refund: { amount: 30_000, currency: 'usd', status: 'succeeded', payment_intent: payment.intent, requested_by: 'support-desk' },
    });
    expect(res.body.decided_at).toMatch(/Z$/);
    const posts = postsFor(gw, payment.intent);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.body.metadata).toMatchObject({ gateway_caller: 'support-desk' });
    // Stripe's key is derived from the request, not from who approves or how often: no approval can refund twice.
    const derived = `gw_${createHash('sha256').update(`support-desk\nPOST /v1/refund-requests/{id}/approve\n${request.id}`).digest('hex')}`;
    expect(posts[0]?.idempotency_key).toBe(derived);
    expect((await gw.stripe.charges.retrieve(payment.charge!)).amount_refunded).toBe(30_000);
    // The refund is in the gateway's index, as any refund made through it.
    const indexed = await gw.http.get('/v1/refunds?requested_by=support-desk&limit=100').set(auth(KEYS.support));
    expect(indexed.body.data.map((r: { id: string }) => r.id)).toContain(res.body.refund.id);
  });

  it('when the requester tries to decide its own request, then 403 approval_by_requester; without the scope, 403 forbidden', async () => {
    const { payment, request } = await requested();
    for (const decision of ['approve', 'reject'] as const) {
      const own = await decide(gw, OPS_KEYS.desk, request.id, decision);
      expect(own.status).toBe(403);
      expect(own.body.code).toBe('approval_by_requester');
    }
    const noScope = await decide(gw, KEYS.billing, request.id, 'approve');
    expect([noScope.status, noScope.body.code]).toEqual([403, 'forbidden']);
    expect(postsFor(gw, payment.intent)).toHaveLength(0);
    expect((await gw.http.get(`/v1/refund-requests/${request.id}`).set(auth(KEYS.support))).body.status).toBe('awaiting_approval');
  });

  it('when a request is approved twice, then the second is 409 refund_request_not_pending and nothing more reaches Stripe', async () => {
    const { payment, request } = await requested();
    expect((await decide(gw, OPS_KEYS.finance, request.id, 'approve')).status).toBe(200);
    for (const who of [OPS_KEYS.finance, OPS_KEYS.audit]) {
      const again = await decide(gw, who, request.id, 'approve');
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: 'refund_request_not_pending', refund_request_status: 'approved' });
    }
    expect((await decide(gw, OPS_KEYS.audit, request.id, 'reject')).body.code).toBe('refund_request_not_pending');
    expect(postsFor(gw, payment.intent)).toHaveLength(1);
  });

  it('when two approvers approve at once, then one decides, the other is 409, and one refund is made', async () => {
    const { payment, request } = await requested();
    const [a, b, c] = await Promise.all([
      decide(gw, OPS_KEYS.finance, request.id, 'approve'),
      decide(gw, OPS_KEYS.audit, request.id, 'approve'),
      decide(gw, OPS_KEYS.desk2, request.id, 'approve'),
    ]);
    const statuses = [a.status, b.status, c.status].sort();
    expect(statuses).toEqual([200, 409, 409]);
    expect(postsFor(gw, payment.intent)).toHaveLength(1);
    expect((await gw.stripe.refunds.list({ payment_intent: payment.intent })).data).toHaveLength(1);
  });

  it('when an approval and a rejection race, then exactly one decision stands and money moves only if it is the approval', async () => {
    const { payment, request } = await requested();
    const [approve, reject] = await Promise.all([decide(gw, OPS_KEYS.finance, request.id, 'approve'), decide(gw, OPS_KEYS.audit, request.id, 'reject')]);
    expect([approve.status, reject.status].sort()).toEqual([200, 409]);
    const final = (await gw.http.get(`/v1/refund-requests/${request.id}`).set(auth(KEYS.support))).body;
    expect(postsFor(gw, payment.intent)).toHaveLength(final.status === 'approved' ? 1 : 0);
  });

  it('when the payment was refunded elsewhere meanwhile, then the approval answers 200 with the rules’ problem and makes no refund', async () => {
    const { payment, request } = await requested();
    await gw.stripe.refunds.create({ payment_intent: payment.intent });
    const res = await decide(gw, OPS_KEYS.finance, request.id, 'approve');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'approved', refund: null, problem: { status: 409, code: 'charge_already_refunded' } });
    expect(res.body.problem.request_id).toBe(res.headers['x-request-id']);
    expect(postsFor(gw, payment.intent)).toHaveLength(0);
  });

  it('when only part is left meanwhile, then the approval refunds nothing: exactly the amount shown was approved', async () => {
    const { payment, request } = await requested(gw, 30_000);
    await gw.stripe.refunds.create({ payment_intent: payment.intent, amount: 20_000 });
    const res = await decide(gw, OPS_KEYS.finance, request.id, 'approve');
    expect(res.body.problem).toMatchObject({ code: 'amount_exceeds_refundable', refundable_amount: 20_000 });
    expect(postsFor(gw, payment.intent)).toHaveLength(0);
  });

  it('when the request omitted the amount, then the approval refunds what it resolved to when it was asked', async () => {
    const p = await createPayment(gw.stripe, { amount: 25_000 });
    const made = await refundAs(gw, OPS_KEYS.desk, { payment_intent: p.intent });
    expect(made.body).toMatchObject({ status: 'awaiting_approval', amount: 25_000, request: { payment_intent: p.intent } });
    const res = await decide(gw, OPS_KEYS.finance, made.body.id, 'approve');
    expect(res.body).toMatchObject({ problem: null, refund: { amount: 25_000 } });
  });

  it('when an approval makes the refund, then its money counts once for the requester in /metrics (not again on a replay)', async () => {
    const money = { currency: 'usd', caller: 'support-desk' };
    const { request } = await requested(gw, 25_000);
    const before = sampleValue((await gw.http.get('/metrics')).text, 'gateway_refunded_amount_minor_units_total', money);
    const key = newKey('approve');
    expect((await decide(gw, OPS_KEYS.finance, request.id, 'approve', undefined, key)).body.refund).toMatchObject({ amount: 25_000 });
    expect((await decide(gw, OPS_KEYS.finance, request.id, 'approve', undefined, key)).headers['idempotent-replayed']).toBe('true');
    const after = sampleValue((await gw.http.get('/metrics')).text, 'gateway_refunded_amount_minor_units_total', money);
    expect(after - before).toBe(25_000);
  });

  it('when an approval is sent with an Idempotency-Key twice, then the second replays the first answer', async () => {
    const { payment, request } = await requested();
    const key = newKey('approve');
    const first = await decide(gw, OPS_KEYS.finance, request.id, 'approve', { note: 'ok' }, key);
    const again = await decide(gw, OPS_KEYS.finance, request.id, 'approve', { note: 'ok' }, key);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(postsFor(gw, payment.intent)).toHaveLength(1);
    const other = await decide(gw, OPS_KEYS.finance, request.id, 'approve', { note: 'changed' }, key);
    expect(other.status).toBe(422);
  });

  it('when the approval counts the requester’s day and it is used up, then the problem is policy_limit_exceeded and no refund is made', async () => {
    const own = await startOpsGateway();
    try {
      // support-desk-2 may refund 100 000 usd a day: 40 000 awaiting, then 20 000 ×4 directly, leaves 20 000.
      const { payment, request } = await requested(own, 40_000, OPS_KEYS.desk2);
      for (let i = 0; i < 4; i += 1) {
        const p = await createPayment(own.stripe, { amount: 20_000 });
        expect((await refundAs(own, OPS_KEYS.desk2, { payment_intent: p.intent })).status).toBe(201);
      }
      const res = await decide(own, OPS_KEYS.finance, request.id, 'approve');
      expect(res.body).toMatchObject({ status: 'approved', refund: null, problem: { code: 'policy_limit_exceeded', window: 'day', remaining: 20_000 } });
      expect(postsFor(own, payment.intent)).toHaveLength(0);
    } finally {
      await own.close();
    }
  });
});

describe('rejecting', () => {
  it('when another caller rejects with a note, then the request is rejected, audited, never reaches Stripe, and cannot be approved after', async () => {
    const { payment, request } = await requested();
    const res = await decide(gw, OPS_KEYS.finance, request.id, 'reject', { note: 'duplicate ticket' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'rejected', decided_by: 'finance', decision_note: 'duplicate ticket', refund: null, problem: null });
    const after = await decide(gw, OPS_KEYS.audit, request.id, 'approve');
    expect(after.body).toMatchObject({ status: 409, code: 'refund_request_not_pending', refund_request_status: 'rejected' });
    expect(postsFor(gw, payment.intent)).toHaveLength(0);
  });

  it('when a decision body has an unknown field or an empty note, then 400 and nothing is decided', async () => {
    const { request } = await requested();
    expect((await decide(gw, OPS_KEYS.finance, request.id, 'reject', { reason: 'x' })).status).toBe(400);
    expect((await decide(gw, OPS_KEYS.finance, request.id, 'reject', { note: '' })).status).toBe(400);
    expect((await gw.http.get(`/v1/refund-requests/${request.id}`).set(auth(KEYS.support))).body.status).toBe('awaiting_approval');
  });
});

describe('expiry', () => {
  it('when APPROVAL_TTL_HOURS pass undecided, then the request reads as expired, lists as expired, and cannot be approved or rejected', async () => {
    // The gateway's clock, ahead of the real one (attempt deadlines are measured against it).
    let clock = Date.now() + 60_000;
    const own = await startOpsGateway({ now: () => new Date(clock), env: { APPROVAL_TTL_HOURS: '2' } });
    try {
      const { payment, request } = await requested(own);
      expect(Date.parse(String(request.expires_at)) - Date.parse(String(request.created))).toBe(2 * 3_600_000);
      clock += 2 * 3_600_000 - 2_000;
      expect((await own.http.get(`/v1/refund-requests/${request.id}`).set(auth(KEYS.support))).body.status).toBe('awaiting_approval');
      clock += 2_000;
      expect((await own.http.get(`/v1/refund-requests/${request.id}`).set(auth(KEYS.support))).body.status).toBe('expired');
      const expired = await own.http.get('/v1/refund-requests?status=expired').set(auth(KEYS.support));
      expect(expired.body.data.map((r: { id: string }) => r.id)).toEqual([request.id]);
      expect((await own.http.get('/v1/refund-requests?status=awaiting_approval').set(auth(KEYS.support))).body.data).toEqual([]);
      for (const decision of ['approve', 'reject'] as const) {
        const late = await decide(own, OPS_KEYS.finance, request.id, decision);
        expect(late.body).toMatchObject({ status: 409, code: 'refund_request_not_pending', refund_request_status: 'expired' });
      }
      expect(postsFor(own, payment.intent)).toHaveLength(0);
    } finally {
      await own.close();
    }
  });
});

describe('an approval whose refund gets no answer', () => {
  it('when Stripe answers too late (504), then the request stays approved without an outcome, and approving it again settles it with the one refund', async () => {
    const own = await startOpsGateway({ env: { STRIPE_MAX_NETWORK_RETRIES: '0', STRIPE_TIMEOUT_MS: '1000' } });
    try {
      const { payment, request } = await requested(own);
      // Stripe makes the refund at once and answers after the gateway stopped waiting.
      own.emulator.control.injectFault({ method: 'POST', path: '/v1/refunds', kind: 'delay_after_work', delay_ms: 2_500, times: 1 });
      const lost = await decide(own, OPS_KEYS.finance, request.id, 'approve');
      expect(lost.body.code).toBe('upstream_timeout');
      const between = (await own.http.get(`/v1/refund-requests/${request.id}`).set(auth(KEYS.support))).body;
      expect(between).toMatchObject({ status: 'approved', decided_by: 'finance', refund: null, problem: null });

      // Another approver settles it (no second decision): the refund carries the request's derived id, so the
      // settling attempt finds it on its fresh read and adopts it instead of asking Stripe again.
      const settled = await decide(own, OPS_KEYS.audit, request.id, 'approve');
      expect(settled.status).toBe(200);
      expect(settled.body).toMatchObject({ status: 'approved', decided_by: 'finance', refund: { amount: 30_000 } });
      expect(postsFor(own, payment.intent)).toHaveLength(1);
      expect((await own.stripe.refunds.list({ payment_intent: payment.intent })).data.map((r) => r.id)).toEqual([settled.body.refund.id]);
      expect((await decide(own, OPS_KEYS.finance, request.id, 'approve')).status).toBe(409);
    } finally {
      await own.close();
    }
  });
});

describe('events of refund requests', () => {
  it('when a request is made and approved, then the requester’s feed has refund_request.created, refund.created and refund_request.approved', async () => {
    const own = await startOpsGateway();
    try {
      const { request } = await requested(own);
      const approved = await decide(own, OPS_KEYS.finance, request.id, 'approve', { note: 'ok' });
      const feed = (await own.http.get('/v1/events?limit=100').set(auth(OPS_KEYS.desk))).body.data as {
        type: string;
        sequence: number;
        data: { object: Record<string, unknown>; previous_status: string | null };
      }[];
      expect(feed.map((e) => e.type).sort()).toEqual(['refund.created', 'refund_request.approved', 'refund_request.created']);
      const created = feed.find((e) => e.type === 'refund_request.created')!;
      expect(created).toMatchObject({ sequence: 1, data: { previous_status: null, object: { id: request.id, status: 'awaiting_approval' } } });
      const decided = feed.find((e) => e.type === 'refund_request.approved')!;
      expect(decided.sequence).toBe(2);
      expect(decided.data).toEqual({ object: approved.body, previous_status: 'awaiting_approval' });
    } finally {
      await own.close();
    }
  });

  it('when a request is rejected, then refund_request.rejected carries the decision; the approver’s own feed does not', async () => {
    const own = await startOpsGateway();
    try {
      const { request } = await requested(own);
      await decide(own, OPS_KEYS.finance, request.id, 'reject', { note: 'no' });
      const feed = (await own.http.get('/v1/events?limit=100').set(auth(OPS_KEYS.desk))).body.data as { type: string; data: { object: { decision_note: string } } }[];
      expect(feed.map((e) => e.type)).toEqual(['refund_request.created', 'refund_request.rejected']);
      expect(feed[1]?.data.object.decision_note).toBe('no');
      expect((await own.http.get('/v1/events').set(auth(OPS_KEYS.finance))).body.data).toEqual([]);
    } finally {
      await own.close();
    }
  });
});
