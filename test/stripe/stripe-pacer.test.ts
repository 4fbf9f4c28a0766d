// The Stripe pacer on its own: the bucket, priorities, deadlines and the share among replicas.
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/refunds/gateway-error.js';
import { StripePacer } from '../../src/stripe/stripe-pacer.js';

const settled = async (promise: Promise<unknown>) => promise.then(() => 'went', (e: unknown) => e);

describe('StripePacer', () => {
  it('when calls come in a burst, then a tenth of a second of the rate goes at once and the rest wait their turn', async () => {
    // Time stands still until the queue is checked, then runs as usual.
    const start = Date.now();
    let frozen = true;
    const pacer = new StripePacer({ ratePerSecond: 40, now: () => (frozen ? start : Date.now()) });
    const order: number[] = [];
    const calls = Array.from({ length: 14 }, (_, i) => pacer.take().then(() => order.push(i)));
    await Promise.resolve();
    // 40/s → a bucket of 4: four went before any time passed; ten wait.
    expect(order).toHaveLength(4);
    expect(pacer.waiting()).toEqual({ interactive: 10, background: 0 });
    frozen = false;
    await Promise.all(calls);
    expect(order).toEqual(Array.from({ length: 14 }, (_, i) => i));
  });

  it('when background work and requests wait together, then every request goes before any background call', async () => {
    // Time stands still while the queue is built, so no token comes back meanwhile; then it runs as usual.
    const start = Date.now();
    let frozen = true;
    const pacer = new StripePacer({ ratePerSecond: 20, now: () => (frozen ? start : Date.now()) });
    // 20/s → a bucket of 2, emptied here.
    await Promise.all(Array.from({ length: 2 }, () => pacer.take()));
    const order: string[] = [];
    const background = [1, 2].map((i) => pacer.take('background').then(() => order.push(`background ${i}`)));
    const interactive = [1, 2].map((i) => pacer.take('interactive').then(() => order.push(`interactive ${i}`)));
    expect(pacer.waiting()).toEqual({ interactive: 2, background: 2 });
    frozen = false;
    await Promise.all([...background, ...interactive]);
    expect(order).toEqual(['interactive 1', 'interactive 2', 'background 1', 'background 2']);
  });

  it('when a call could not have its turn before its deadline, then it is refused at once with retry-after, never sent late', async () => {
    const pacer = new StripePacer({ ratePerSecond: 4 });
    await pacer.take();
    const refused = await settled(pacer.take('interactive', Date.now() + 10));
    expect(isGatewayError(refused) && { code: refused.code, retryAfter: refused.retryAfterSeconds }).toEqual({ code: 'upstream_unavailable', retryAfter: 1 });
  });

  it('when replicas share the rate, then each one’s share is the rate divided by them', () => {
    const pacer = new StripePacer({ ratePerSecond: 20 });
    pacer.setReplicas(2);
    expect(pacer.share).toBe(10);
    pacer.setReplicas(0);
    expect(pacer.share).toBe(20);
  });
});
