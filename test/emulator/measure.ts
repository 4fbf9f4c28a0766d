// Measures the emulator in one process: cost of a refund (events included), webhook latency, rate-limit accuracy, event memory.
// Run: node --expose-gc --import tsx test/emulator/measure.ts [webhooks]   (not a test: numbers for docs/emulator.md)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { startEmulator } from '../../src/emulator/server.js';
import { TEST_API_VERSION } from '../helpers/emulator.js';

const withWebhooks = process.argv[2] === 'webhooks';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

// A receiver that records when each event arrived.
const arrivals = new Map<string, number>();
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const event = JSON.parse(Buffer.concat(chunks).toString()) as { type: string; data: { object: { id: string } } };
    if (event.type === 'refund.created') arrivals.set(event.data.object.id, performance.now());
    res.end('ok');
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const emulator = await startEmulator({ port: 0, ...(withWebhooks ? { webhooks: [{ url: hookUrl, secret: 'whsec_measure' }] } : {}) });
const { port } = new URL(emulator.url);
const stripe = new Stripe('sk_test_measure', { host: '127.0.0.1', port: Number(port), protocol: 'http', telemetry: false, maxNetworkRetries: 0, apiVersion: TEST_API_VERSION });

const pi = await stripe.paymentIntents.create({ amount: 99_000_000, currency: 'usd', payment_method: 'pm_card_visa', allowed_payment_method_types: ['card'], confirm: true });
const charge = pi.latest_charge as string;
// Warm up.
for (let i = 0; i < 200; i += 1) await stripe.refunds.create({ charge, amount: 1 });
arrivals.clear();

const N = 2000;
const answeredAt = new Map<string, number>();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
for (let i = 0; i < N; i += 1) {
  const r = await stripe.refunds.create({ charge, amount: 1 });
  answeredAt.set(r.id, performance.now());
}
const elapsed = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(`${withWebhooks ? 'with a webhook endpoint' : 'without webhook endpoints'}: ${N} sequential refunds in ${elapsed.toFixed(0)} ms = ${((elapsed * 1000) / N).toFixed(0)} µs each, process CPU ${(((cpu.user + cpu.system) / N)).toFixed(0)} µs/refund (SDK + emulator + receiver in one process)`);

if (withWebhooks) {
  await fetch(`${emulator.url}/_emulator/webhooks/flush`, { method: 'POST', body: '{}' });
  const lat = [...answeredAt].flatMap(([id, at]) => (arrivals.has(id) ? [(arrivals.get(id) ?? 0) - at] : []));
  console.log(`refund.created webhooks received: ${lat.length}/${N}; from the API answer to the receiver: p50 ${pct(lat, 50).toFixed(1)} ms, p95 ${pct(lat, 95).toFixed(1)} ms, max ${pct(lat, 100).toFixed(1)} ms`);
}

{
  // Memory of the events alone: what dropping them all frees (as if 31 days had passed).
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const { events, clock } = emulator.control.state();
  const kept = events.size;
  const heap = process.memoryUsage().heapUsed;
  events.prune(clock.nowMs() + 31 * 24 * 3600 * 1000);
  gc?.();
  const freed = heap - process.memoryUsage().heapUsed;
  console.log(`events kept: ${kept}; dropping them frees ${(freed / 1024 / 1024).toFixed(1)} MB of heap = ${(freed / kept / 1024).toFixed(2)} KB per event${gc ? '' : ' (run with --expose-gc for a stable number)'}`);

  // Rate-limit accuracy: a burst of 75 at 25/s, then a paced 20/s for 3 s.
  emulator.control.updateSettings({ rate_limit: { per_second: 25, per_endpoint_per_second: 25 } });
  const burst = await Promise.all(Array.from({ length: 75 }, () => stripe.balance.retrieve().then(() => 200, (e: Stripe.errors.StripeError) => e.statusCode ?? 0)));
  console.log(`burst of 75 at once with 25/s: ${burst.filter((s) => s === 200).length} answered, ${burst.filter((s) => s === 429).length} got 429`);
  await new Promise((r) => setTimeout(r, 1100));
  emulator.control.updateSettings({ rate_limit: { per_second: 25, per_endpoint_per_second: 25 } });
  let refused = 0;
  const start = performance.now();
  for (let i = 0; i < 60; i += 1) {
    const due = start + i * 50;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    await stripe.balance.retrieve().catch(() => (refused += 1));
  }
  console.log(`paced 20/s for 3 s (60 requests) with 25/s: ${refused} got 429; stats: ${JSON.stringify(emulator.control.rateLimitStats())}`);
}

await emulator.close();
receiver.close();
