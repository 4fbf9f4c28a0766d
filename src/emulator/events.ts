// Stripe's event log: each change worth telling becomes an `evt_` holding a snapshot of the object, kept 30 days of emulator clock.
import { ACCOUNT_API_VERSION } from './account.js';
import type { ListSource } from './lists.js';
import type { StoredRecord } from './store.js';

type Json = Record<string, unknown>;

/** `request` of an event: the API request that caused it, or nulls when it happened on its own (a refund failing later). */
export interface EventRequest {
  id: string | null;
  idempotency_key: string | null;
}

export interface EventRecord extends StoredRecord {
  type: string;
  /** The object as it was when the event happened, serialised once: an event's data never changes. */
  objectJson: string;
  previousAttributes: Json | undefined;
  request: EventRequest;
  /** Deliveries to endpoints that have not succeeded yet (Stripe's `pending_webhooks`). */
  pendingWebhooks: number;
}

/** Stripe lists events "going back up to 30 days". */
export const EVENT_RETENTION_MS = 30 * 24 * 3600 * 1000;

const AUTOMATIC: EventRequest = { id: null, idempotency_key: null };

export class EventLog implements ListSource<EventRecord> {
  readonly kind = 'event';
  /** Ids, oldest first. */
  readonly order: string[] = [];
  private readonly byId = new Map<string, EventRecord>();
  private readonly listeners: ((event: EventRecord) => void)[] = [];
  /** The API request whose work is running now; the pipeline sets it around a request's execution only. */
  private current: EventRequest = AUTOMATIC;

  /** `limit` bounds memory in long benchmark runs: past it the oldest events go, as if 30 days had passed. */
  constructor(private readonly limit: number) {}

  get(id: string): EventRecord | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.order.length;
  }

  /** Called with every new event, after it is stored (the webhook dispatcher listens here). */
  subscribe(listener: (event: EventRecord) => void): void {
    this.listeners.push(listener);
  }

  /** Runs `work` with events attributed to `request` (null: automatic), restoring the previous attribution afterwards. */
  attributeTo<T>(request: EventRequest | null, work: () => T): T {
    const before = this.current;
    this.current = request ?? AUTOMATIC;
    try {
      return work();
    } finally {
      this.current = before;
    }
  }

  add(base: StoredRecord, type: string, object: Json, previousAttributes: Json | undefined, nowMs: number): EventRecord {
    const event: EventRecord = { ...base, type, objectJson: JSON.stringify(object), previousAttributes, request: { ...this.current }, pendingWebhooks: 0 };
    this.byId.set(event.id, event);
    this.order.push(event.id);
    this.prune(nowMs);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Drops events older than 30 days of emulator clock, and the oldest beyond the limit (in batches, to keep pushes cheap). */
  prune(nowMs: number): void {
    const oldest = Math.floor((nowMs - EVENT_RETENTION_MS) / 1000);
    let drop = 0;
    while (drop < this.order.length && (this.byId.get(this.order[drop] ?? '')?.created ?? 0) < oldest) drop += 1;
    if (this.order.length - drop > this.limit + Math.ceil(this.limit / 10)) drop = this.order.length - this.limit;
    if (drop === 0) return;
    for (const id of this.order.splice(0, drop)) this.byId.delete(id);
  }
}

/** Stripe's Event object. `pending_webhooks` is read now; the rest never changes. */
export function renderEvent(e: EventRecord): Json {
  const data: Json = { object: JSON.parse(e.objectJson) as unknown };
  if (e.previousAttributes !== undefined) data['previous_attributes'] = e.previousAttributes;
  return {
    id: e.id,
    object: 'event',
    api_version: ACCOUNT_API_VERSION,
    created: e.created,
    data,
    livemode: false,
    pending_webhooks: e.pendingWebhooks,
    request: { ...e.request },
    type: e.type,
  };
}

/** Stripe's `type` filter and `enabled_events`: an exact name, or a group with `*` as a wildcard (`refund.*`, `*`). */
export function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(type);
}
