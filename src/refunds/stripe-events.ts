// What Stripe tells the gateway about refunds after the request (webhooks, its event list), as the rules see it.
import type { CallOptions } from './payment-gateway.js';
import type { Page, Refund } from './types.js';

/** The event types that change what the gateway knows of refunds; every other type is acknowledged and ignored. */
export const REFUND_EVENT_TYPES = ['refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated', 'charge.refunded'] as const;
export type RefundEventType = (typeof REFUND_EVENT_TYPES)[number];

export const isRefundEventType = (type: string): type is RefundEventType => (REFUND_EVENT_TYPES as readonly string[]).includes(type);

/** One Stripe event, mapped: the refund it carries, or for `charge.refunded` (a Charge without its refunds) the charge. */
export interface ProviderEvent {
  id: string;
  type: string;
  /** Unix seconds, Stripe's clock. */
  created: number;
  /** refund.* and charge.refund.updated: the refund as it was when the event happened. */
  refund: Refund | null;
  /** charge.refunded: the charge whose refunds are to be read. */
  chargeId: string | null;
}

/** Where an event came from: a signed webhook, or the reconciliation's read of the event list. */
export type EventSource = 'webhook' | 'reconcile';

/**
 * Checks a webhook's signature over the exact bytes received and maps the event. Throws GatewayError
 * `invalid_signature` for a missing, stale or wrong signature, `validation_error` for a signed body that is not an event.
 */
export interface WebhookVerifier {
  verify(rawBody: Buffer, signature: string | undefined): ProviderEvent;
}

export interface ListProviderEventsInput {
  types: readonly RefundEventType[];
  limit: number;
  /** An event id: the page holds the events right after it (newer), still newest first. Unknown or expired: not_found. */
  endingBefore?: string;
  /** An event id: the page holds the events right before it (older). */
  startingAfter?: string;
  /** Only events created at or after this (unix seconds). */
  createdGte?: number;
}

/** Stripe's event list (kept 30 days), newest first. */
export interface ProviderEventSource {
  listEvents(input: ListProviderEventsInput, options?: CallOptions): Promise<Page<ProviderEvent>>;
}
