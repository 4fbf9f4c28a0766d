// The typed client (clients/typescript) against a real gateway on the seeded emulator: the main flows, over real HTTP.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRefundGatewayClient, type Problem, type RefundGatewayClient } from '../../clients/typescript/client.js';
import { KEYS, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let client: RefundGatewayClient;
let baseUrl: string;

beforeAll(async () => {
  gw = await startTestGateway({ seed: true });
  // A real socket: the client is fetch, as in another service, not an injected request.
  await gw.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = gw.app.server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
  client = createRefundGatewayClient({ baseUrl, apiKey: KEYS.billing });
});

afterAll(async () => {
  await gw?.close();
});

describe('the typed client', () => {
  it('when a payment is read, then its refund picture comes back typed', async () => {
    const { data, error, response } = await client.GET('/v1/payments/{id}', { params: { path: { id: 'pi_DemoPartlyRefunded' } } });
    expect(error).toBeUndefined();
    expect(response.status).toBe(200);
    expect(data).toMatchObject({ id: 'pi_DemoPartlyRefunded', type: 'payment_intent', refundable_amount: 7500, currency: 'usd', next_step: 'refund' });
  });

  it('when a refund is made and sent again with the same key, then the second answer is the same refund, replayed', async () => {
    const send = () =>
      client.POST('/v1/refunds', {
        params: { header: { 'idempotency-key': 'client-refund-1' } },
        body: { payment_intent: 'pi_DemoSucceeded', amount: 1500, reason: 'requested_by_customer', metadata: { order: '42' } },
      });
    const first = await send();
    expect(first.response.status).toBe(201);
    expect(first.data).toMatchObject({ amount: 1500, currency: 'usd', status: 'succeeded', requested_by: 'billing', metadata: { order: '42' } });
    expect(first.response.headers.get('idempotent-replayed')).toBeNull();

    const again = await send();
    expect(again.response.status).toBe(201);
    expect(again.response.headers.get('idempotent-replayed')).toBe('true');
    expect(again.data?.id).toBe(first.data?.id);
  });

  it('when more is asked than is left, then the error is the typed problem with its code and refundable amount', async () => {
    const { data, error, response } = await client.POST('/v1/refunds', {
      params: { header: { 'idempotency-key': 'client-refund-too-much' } },
      body: { payment_intent: 'pi_DemoPartlyRefunded', amount: 999_999 },
    });
    expect(data).toBeUndefined();
    expect(response.status).toBe(409);
    const problem: Problem | undefined = error;
    expect(problem).toMatchObject({ status: 409, code: 'amount_exceeds_refundable', refundable_amount: 7500, currency: 'usd' });
  });

  it('when a payment’s refunds are listed, then the page holds the refund made through the client, newest first', async () => {
    const { data, error } = await client.GET('/v1/refunds', { params: { query: { payment_intent: 'pi_DemoSucceeded', limit: 5 } } });
    expect(error).toBeUndefined();
    expect(data?.has_more).toBe(false);
    expect(data?.data.map((r) => [r.amount, r.requested_by])).toContainEqual([1500, 'billing']);
  });

  it('when an authorisation is cancelled, then the picture says canceled and nothing is left to do', async () => {
    const { data, error, response } = await client.POST('/v1/payment-intents/{id}/cancel', {
      params: { path: { id: 'pi_DemoRequiresCapture' }, header: { 'idempotency-key': 'client-cancel-1' } },
      body: { cancellation_reason: 'abandoned' },
    });
    expect(error).toBeUndefined();
    expect(response.status).toBe(200);
    expect(data).toMatchObject({ id: 'pi_DemoRequiresCapture', status: 'canceled', cancelable: false, next_step: 'none', amount_captured: 0 });
  });

  it('when the key is wrong, then the problem says unauthenticated and the key never shows in it', async () => {
    const stranger = createRefundGatewayClient({ baseUrl, apiKey: 'not-a-key-0123456789abcdef' });
    const { error, response } = await stranger.GET('/v1/refunds/{id}', { params: { path: { id: 're_123' } } });
    expect(response.status).toBe(401);
    expect(error?.code).toBe('unauthenticated');
    expect(JSON.stringify(error)).not.toContain('not-a-key');
  });
});
