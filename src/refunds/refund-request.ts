// Refund requests: a refund over the caller's approval threshold, waiting for another caller to approve or reject it.
import { createHash } from 'node:crypto';
import type { ErrorCode, ErrorFields } from './gateway-error.js';
import type { CreateRefundRequest, Refund } from './types.js';

export const REFUND_REQUEST_STATUSES = ['awaiting_approval', 'approved', 'rejected', 'expired'] as const;
export type RefundRequestStatus = (typeof REFUND_REQUEST_STATUSES)[number];

/** A refusal kept as data: the problem the approved refund got, replayed as the same problem+json. */
export interface StoredProblem {
  code: ErrorCode;
  detail: string;
  fields: ErrorFields;
  /** The request id of the call that got it (the approval's). */
  requestId: string;
}

/** Times are unix seconds, like a Refund's `created`, so the object survives JSON (stored answers, events) unchanged. */
export interface RefundRequest {
  id: string;
  /**
   * As stored: never `expired` — a request still awaiting approval past `expiresAt` reads as expired (see presented),
   * so expiry needs no job. `approved` with neither `refund` nor `problem`: the approval's refund has no known outcome
   * yet (in flight, or it timed out); approving it again settles it with the same Stripe key.
   */
  status: RefundRequestStatus;
  /** The body of POST /v1/refunds as sent. */
  request: CreateRefundRequest;
  /** What the refund resolved to when it was asked for (an omitted amount counts as what was left). */
  amount: number;
  currency: string;
  requestedBy: string;
  decidedBy: string | null;
  decisionNote: string | null;
  refund: Refund | null;
  problem: StoredProblem | null;
  created: number;
  decidedAt: number | null;
  expiresAt: number;
}

/** `rr_` and 24 hex digits, derived from the request's own derived id: every attempt of one caller request names the same refund request. */
export const refundRequestIdOf = (gatewayRequestId: string): string =>
  `rr_${createHash('sha256').update(`refund_request\n${gatewayRequestId}`).digest('hex').slice(0, 24)}`;

export const isExpired = (request: RefundRequest, now: Date): boolean =>
  request.status === 'awaiting_approval' && now.getTime() >= request.expiresAt * 1000;

/** The request as callers see it now: awaiting past its expiry reads as expired. */
export const presented = (request: RefundRequest, now: Date): RefundRequest =>
  isExpired(request, now) ? { ...request, status: 'expired' } : request;

/** Whether an approved request still waits for its refund's outcome. */
export const isUnsettled = (request: RefundRequest): boolean => request.status === 'approved' && request.refund === null && request.problem === null;

export interface RefundRequestQuery {
  status?: RefundRequestStatus;
  requestedBy?: string;
  limit: number;
  /** A refund request id: the page after it (newest first). */
  startingAfter?: string;
  /** Decides which awaiting requests read as expired. */
  now: Date;
}
