// /v1/webhook_endpoints: where events are delivered (url, enabled_events, a `whsec_` secret shown once), as Stripe's API has them.
import { randomBytes } from 'node:crypto';
import { invalidRequest, parameterMissing } from './errors.js';
import { buildExpandTree } from './expand.js';
import { mergeMetadata, readBoolean, readExpand, readMetadata, readString, rejectUnknown, type Params } from './form.js';
import { listRoute, retrieveRoute } from './resource-routes.js';
import { defineRoute, type PreparedRoute } from './router.js';
import { newRecordBase, type EmulatorState } from './state.js';
import type { StoredRecord } from './store.js';

export interface WebhookEndpointRecord extends StoredRecord {
  url: string;
  enabledEvents: string[];
  /** Signs every delivery; never logged, shown only in the create answer. */
  secret: string;
  description: string | null;
  metadata: Record<string, string>;
  apiVersion: string | null;
  status: 'enabled' | 'disabled';
}

export interface NewWebhookEndpoint {
  url: string;
  enabledEvents: string[];
  secret?: string;
  description?: string | null;
  metadata?: Record<string, string>;
  apiVersion?: string | null;
}

/** Stripe's secrets are `whsec_` and 32 letters and digits. */
export function newWebhookSecret(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `whsec_${[...randomBytes(32)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

export function addWebhookEndpoint(state: EmulatorState, input: NewWebhookEndpoint): WebhookEndpointRecord {
  return state.webhookEndpoints.insert({
    ...newRecordBase(state, 'we'),
    url: input.url,
    enabledEvents: [...input.enabledEvents],
    secret: input.secret ?? newWebhookSecret(),
    description: input.description ?? null,
    metadata: { ...(input.metadata ?? {}) },
    apiVersion: input.apiVersion ?? null,
    status: 'enabled',
  });
}

/** The endpoint as Stripe shows it; `secret` is added only to the create answer. */
export function renderWebhookEndpoint(_state: EmulatorState, e: WebhookEndpointRecord): Record<string, unknown> {
  return {
    id: e.id,
    object: 'webhook_endpoint',
    api_version: e.apiVersion,
    application: null,
    created: e.created,
    description: e.description,
    enabled_events: [...e.enabledEvents],
    livemode: false,
    metadata: { ...e.metadata },
    status: e.status,
    url: e.url,
  };
}

function readUrl(params: Params): string | undefined {
  const url = readString(params, 'url');
  if (url === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) throw invalidRequest(`Invalid URL: ${url}`, { param: 'url' });
  return url;
}

// `*` (every event) or an event name, as at Stripe (no group wildcards). Stripe also refuses names it does not know; the
// emulator checks only their shape (dotted lower-case words).
export const EVENT_NAME = /^(\*|[a-z_]+(\.[a-z_]+)+)$/;

function readEnabledEvents(params: Params): string[] | undefined {
  const raw = params['enabled_events'];
  if (raw === undefined) return undefined;
  const list = Array.isArray(raw) ? raw : typeof raw === 'object' && raw !== null ? Object.values(raw) : [raw];
  if (list.length === 0) throw invalidRequest('Invalid array', { param: 'enabled_events' });
  return list.map((name, i) => {
    if (typeof name !== 'string' || !EVENT_NAME.test(name)) throw invalidRequest(`Invalid enabled_events[${i}]: ${JSON.stringify(name)} is not an event type.`, { param: `enabled_events[${i}]` });
    return name;
  });
}

const create = defineRoute({
  method: 'POST',
  pattern: '/v1/webhook_endpoints',
  validate: ({ params }) => {
    rejectUnknown(params, ['url', 'enabled_events', 'description', 'metadata', 'api_version', 'connect', 'expand']);
    buildExpandTree('webhook_endpoint', readExpand(params));
    if (readBoolean(params, 'connect') === true) throw invalidRequest('The emulator does not model Connect: connect=true is not supported.', { param: 'connect' });
    const url = readUrl(params);
    if (url === undefined) throw parameterMissing('url');
    const enabledEvents = readEnabledEvents(params);
    if (enabledEvents === undefined) throw parameterMissing('enabled_events');
    return { url, enabledEvents, description: readString(params, 'description') || null, metadata: mergeMetadata({}, readMetadata(params)), apiVersion: readString(params, 'api_version') ?? null };
  },
  execute: ({ state }, input) => {
    const endpoint = addWebhookEndpoint(state, input);
    return { body: { ...renderWebhookEndpoint(state, endpoint), secret: endpoint.secret } };
  },
});

const retrieve = retrieveRoute({ pattern: '/v1/webhook_endpoints/:id', type: 'webhook_endpoint', records: (state) => state.webhookEndpoints, render: renderWebhookEndpoint });

const update = defineRoute({
  method: 'POST',
  pattern: '/v1/webhook_endpoints/:id',
  validate: ({ params }) => {
    rejectUnknown(params, ['url', 'enabled_events', 'description', 'metadata', 'disabled', 'expand']);
    buildExpandTree('webhook_endpoint', readExpand(params));
    return { url: readUrl(params), enabledEvents: readEnabledEvents(params), description: readString(params, 'description'), metadata: readMetadata(params), disabled: readBoolean(params, 'disabled') };
  },
  execute: ({ state, path }, input) => {
    const endpoint = state.webhookEndpoints.getOr404(path['id'] ?? '');
    if (input.url !== undefined) endpoint.url = input.url;
    if (input.enabledEvents !== undefined) endpoint.enabledEvents = input.enabledEvents;
    if (input.description !== undefined) endpoint.description = input.description || null;
    endpoint.metadata = mergeMetadata(endpoint.metadata, input.metadata);
    if (input.disabled !== undefined) endpoint.status = input.disabled ? 'disabled' : 'enabled';
    return { body: renderWebhookEndpoint(state, endpoint) };
  },
});

const remove = defineRoute({
  method: 'DELETE',
  pattern: '/v1/webhook_endpoints/:id',
  validate: ({ params }) => rejectUnknown(params, []),
  execute: ({ state, path }) => {
    const endpoint = state.webhookEndpoints.getOr404(path['id'] ?? '');
    state.webhookEndpoints.remove(endpoint.id);
    return { body: { id: endpoint.id, object: 'webhook_endpoint', deleted: true } };
  },
});

const list = listRoute({
  pattern: '/v1/webhook_endpoints',
  type: 'list_of_webhook_endpoint',
  filters: [],
  records: (state) => state.webhookEndpoints,
  render: renderWebhookEndpoint,
});

export const webhookEndpointRoutes: readonly PreparedRoute[] = [create, list, retrieve, update, remove];
