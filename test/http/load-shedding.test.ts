// Load shedding: a lagging event loop turns /v1 requests into 503 overloaded, while health stays answerable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ env: { MAX_EVENT_LOOP_DELAY_MS: '20' } });
});
afterAll(async () => {
  await gw?.close();
});

/** Keeps the event loop busy, as a CPU-bound burst of traffic would. */
const blockEventLoop = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
};

describe('MAX_EVENT_LOOP_DELAY_MS', () => {
  it('when the event loop lags, then /v1 answers 503 overloaded with retry-after and /healthz still answers; then it recovers', async () => {
    // A busy test machine may lag a little on its own: start from a calm loop.
    await expect.poll(async () => (await gw.http.get('/v1/refunds').set(auth())).status, { timeout: 10_000, interval: 200 }).toBe(200);
    blockEventLoop(1_500);
    await new Promise((resolve) => setTimeout(resolve, 10)); // let the lag sample land
    const shed = await gw.http.get('/v1/refunds').set(auth());
    expect(shed.status).toBe(503);
    expect(shed.headers['content-type']).toContain('application/problem+json');
    expect(shed.body).toMatchObject({ code: 'overloaded', request_id: shed.headers['x-request-id'] });
    expect(shed.headers['retry-after']).toBe('1');
    expect((await gw.http.get('/healthz')).status).toBe(200);
    await expect.poll(async () => (await gw.http.get('/v1/refunds').set(auth())).status, { timeout: 10_000, interval: 200 }).toBe(200);
  });

  it('when shedding is off (0), then a lag does not refuse requests', async () => {
    const off = await startTestGateway({ env: { MAX_EVENT_LOOP_DELAY_MS: '0' } });
    try {
      blockEventLoop(1_200);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect((await off.http.get('/v1/refunds').set(auth())).status).toBe(200);
    } finally {
      await off.close();
    }
  });
});
