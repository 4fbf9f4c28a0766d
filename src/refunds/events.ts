// Events to callers: what changed, about which object, for whom; the ledger stores them with the change itself.
import { randomBytes } from 'node:crypto';

export const EVENT_TYPES = [
  'refund.created',
  'refund.updated',
  'refund_request.created',
  'refund_request.approved',
  'refund_request.rejected',
  'refund_batch.completed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type EventObjectType = 'refund' | 'refund_request' | 'refund_batch';

export interface GatewayEvent {
  id: string;
  type: EventType;
  /** The caller whose object it is (a refund request's requester, a batch's sender); null for refunds not made through the gateway (Dashboard). */
  owner: string | null;
  objectType: EventObjectType;
  objectId: string;
  /** Rises by one per object. */
  sequence: number;
  /** The object as it was right after the change, in its domain form. */
  object: unknown;
  previousStatus: string | null;
  created: Date;
}

/** One event to send to one caller. */
export interface EventDelivery {
  event: GatewayEvent;
  caller: string;
  /** Attempts made before this one. */
  attempts: number;
}

/** `evt_` and 24 hex digits: letters and digits only, like Stripe's ids. */
export const newEventId = (): string => `evt_${randomBytes(12).toString('hex')}`;

export interface EventQuery {
  /** The caller asking; it sees its own objects' events, or every event when `all`. */
  caller: string;
  all: boolean;
  limit: number;
  /** An event id: the page starts after it (oldest first). */
  startingAfter?: string;
}

export type DeliveryResult =
  | { kind: 'delivered' }
  | { kind: 'retry'; at: Date; error: string }
  | { kind: 'failed'; error: string };

export interface DeliveryBacklog {
  pending: number;
  /** Age of the oldest delivery not yet made; null when there is none. */
  oldestPendingSeconds: number | null;
}
