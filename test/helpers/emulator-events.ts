// Test helpers for the emulator's events, webhooks and rate-limit mode: a local webhook receiver and typed wrappers over the control API.
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import type { EmulatorSettings, SettingsPatch } from '../../src/emulator/control.js';
import type { RateLimitStats } from '../../src/emulator/rate-limiter.js';
import type { DeliveryFilter, WebhookDelivery } from '../../src/emulator/webhook-dispatcher.js';
import type { WebhookFault, WebhookFaultSpec } from '../../src/emulator/webhook-faults.js';

export type { EmulatorSettings, RateLimitStats, SettingsPatch, WebhookDelivery, WebhookFault, WebhookFaultSpec };

export interface ReceivedWebhook {
  /** The raw body, exactly as sent (what a signature is checked over). */
  body: string;
  headers: IncomingHttpHeaders;
  /** The body parsed. */
  event: Stripe.Event;
}

/** What to answer the n-th request (0-based): a status, or a promise of one (to hold the answer back). Default 200. */
export type Answer = (index: number, received: ReceivedWebhook) => number | Promise<number>;

export interface WebhookReceiver {
  url: string;
  /** Every request received, in arrival order (recorded before it is answered). */
  received: ReceivedWebhook[];
  /** Types of the events received, in arrival order. */
  types(): string[];
  close(): Promise<void>;
}

const readAll = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

/** A local HTTP server on port 0 standing in for the gateway's webhook route. */
export async function startWebhookReceiver(answer: Answer = () => 200): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    void readAll(req).then(async (body) => {
      const hook: ReceivedWebhook = { body, headers: req.headers, event: JSON.parse(body) as Stripe.Event };
      received.push(hook);
      const status = await answer(received.length - 1, hook);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    received,
    types: () => received.map((r) => r.event.type),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function control<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}/_emulator${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as T & { error?: { message?: string } };
  if (!res.ok) throw new Error(`emulator control ${method} ${path} → ${res.status}: ${json.error?.message ?? JSON.stringify(json)}`);
  return json;
}

/** Changes only the settings given: `bank_debits`, `rate_limit` (null: off), `webhooks` (on/off), `webhook_delivery`. */
export const updateSettings = (url: string, patch: SettingsPatch): Promise<EmulatorSettings> => control(url, 'POST', '/settings', patch);

export const rateLimitStats = (url: string): Promise<RateLimitStats> => control(url, 'GET', '/rate_limit');

/** Every delivery (event × endpoint), oldest first, with its attempts. */
export async function webhookDeliveries(url: string, filter: DeliveryFilter = {}): Promise<WebhookDelivery[]> {
  const query = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return (await control<{ data: WebhookDelivery[] }>(url, 'GET', `/webhooks/deliveries?${query.toString()}`)).data;
}

export const injectWebhookFault = (url: string, spec: WebhookFaultSpec): Promise<WebhookFault> => control(url, 'POST', '/webhooks/faults', spec);

/** Applies what is due, sends held batches and waits until no delivery is pending, in flight or due for a retry. */
export const flushWebhooks = (url: string, timeoutMs?: number): Promise<{ idle: boolean; active: number }> =>
  control(url, 'POST', '/webhooks/flush', timeoutMs === undefined ? {} : { timeout_ms: timeoutMs });

/** A webhook endpoint with a chosen secret; `backfill` also sends the events already kept. */
export const addWebhookEndpoint = (url: string, spec: { url: string; secret?: string; enabled_events?: string[]; backfill?: boolean }): Promise<Stripe.WebhookEndpoint> =>
  control(url, 'POST', '/webhooks/endpoints', spec);

/** Every event the emulator keeps, oldest first (pages through `GET /v1/events`). */
export async function allEvents(stripe: Stripe, params: Stripe.EventListParams = {}): Promise<Stripe.Event[]> {
  return (await stripe.events.list({ limit: 100, ...params }).autoPagingToArray({ limit: 10_000 })).reverse();
}

/** The events about one object (its `data.object.id`), oldest first. */
export async function eventsAbout(stripe: Stripe, objectId: string): Promise<Stripe.Event[]> {
  return (await allEvents(stripe)).filter((e) => (e.data.object as { id?: string }).id === objectId);
}
