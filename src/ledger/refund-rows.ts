// The refund index's rows as both backends return them, and the values read back from either driver.
import type { Refund, RefundReason, RefundStatus } from '../refunds/types.js';

export interface RefundRow {
  id: string;
  amount: number | string;
  currency: string;
  status: RefundStatus;
  charge: string | null;
  payment_intent: string | null;
  reason: RefundReason | null;
  failure_reason: string | null;
  metadata: Record<string, string> | string;
  requested_by: string | null;
  gateway_request_id: string | null;
  created: number | string;
}

export const REFUND_COLUMNS = `id, amount, currency, status, charge, payment_intent, reason, failure_reason, metadata,
  requested_by, gateway_request_id, created`;

/** JSON columns: PostgreSQL's driver parses them, SQLite returns the text. */
export const readJson = <T>(value: unknown): T => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T));

/** Timestamps: PostgreSQL's driver gives a Date, SQLite the ISO text it was stored as. */
export const readTime = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));

export const toRefund = (row: RefundRow): Refund => ({
  id: row.id,
  amount: Number(row.amount),
  currency: row.currency,
  status: row.status,
  charge: row.charge,
  paymentIntent: row.payment_intent,
  reason: row.reason,
  failureReason: row.failure_reason,
  metadata: readJson<Record<string, string>>(row.metadata),
  requestedBy: row.requested_by,
  gatewayRequestId: row.gateway_request_id,
  created: Number(row.created),
});

/** A refund's columns in the order of the upsert statements' parameters. */
export const refundParams = (refund: Refund): unknown[] => [
  refund.id,
  refund.amount,
  refund.currency,
  refund.status,
  refund.charge,
  refund.paymentIntent,
  refund.reason,
  refund.failureReason,
  JSON.stringify(refund.metadata),
  refund.requestedBy,
  refund.gatewayRequestId,
  refund.created,
];
