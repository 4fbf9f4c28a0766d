// Reads the gateway's /metrics: what it served and the Stripe calls it made, before and after a measured point.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, only as far as prom-client writes it (no escaped quotes in our label values). */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? '';
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(gatewayUrl: string): Promise<Sample[]> {
  const response = await fetch(`${gatewayUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return parsePrometheus(await response.text());
}

const sum = (samples: readonly Sample[], name: string, where: (labels: Record<string, string>) => boolean = () => true): number =>
  samples.filter((s) => s.name === name && where(s.labels)).reduce((total, s) => total + s.value, 0);

/** Stripe calls per operation made between two scrapes. */
export function stripeCallsBetween(before: readonly Sample[], after: readonly Sample[]): Record<string, number> {
  const name = 'gateway_stripe_call_duration_seconds_count';
  const operations = new Set(after.filter((s) => s.name === name).map((s) => s.labels['operation'] ?? '?'));
  const calls: Record<string, number> = {};
  for (const operation of [...operations].sort()) {
    const delta = sum(after, name, (l) => l['operation'] === operation) - sum(before, name, (l) => l['operation'] === operation);
    if (delta > 0) calls[operation] = delta;
  }
  return calls;
}

/** Requests the gateway itself counted on one route between two scrapes (its own view, in-flight ones included). */
export function servedBetween(before: readonly Sample[], after: readonly Sample[], method: string, route: string): number {
  const name = 'gateway_http_request_duration_seconds_count';
  const where = (l: Record<string, string>) => l['method'] === method && l['route'] === route;
  return sum(after, name, where) - sum(before, name, where);
}

/**
 * Waits until neither the gateway's request count on a route nor its Stripe call count has moved for `quietMs`.
 * Requests cut off on the client side when a run stops still run to the end in the gateway (making Stripe calls, but
 * never reaching the request metrics); what comes next must not be measured while they do.
 */
export async function settle(gatewayUrl: string, method: string, route: string, quietMs = 600, maxMs = 20_000): Promise<Sample[]> {
  const activity = (samples: readonly Sample[]) =>
    sum(samples, 'gateway_stripe_call_duration_seconds_count') +
    sum(samples, 'gateway_http_request_duration_seconds_count', (l) => l['method'] === method && l['route'] === route);
  const started = performance.now();
  let last = await scrape(gatewayUrl);
  let quietSince = performance.now();
  while (performance.now() - quietSince < quietMs && performance.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = await scrape(gatewayUrl);
    if (activity(now) !== activity(last)) quietSince = performance.now();
    last = now;
  }
  return last;
}
