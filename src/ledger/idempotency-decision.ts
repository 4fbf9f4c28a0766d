// What an existing idempotency record means for a new attempt: the one decision both backends share.
import type { IdempotencyBegin } from '../refunds/ledger.js';
import { readJson, readTime } from './refund-rows.js';

export interface ExistingRecord {
  fingerprint: string;
  state: 'in_progress' | 'open' | 'completed';
  request_id: string;
  outcome: unknown;
  lease_expires_at: Date | string | null;
}

/** `take` when the attempt may take the record over (it was released, or its holder's lease ran out). */
export function decide(row: ExistingRecord, fingerprint: string, now: Date): IdempotencyBegin | 'take' {
  if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (row.state === 'completed') return { kind: 'replay', outcome: readJson(row.outcome) };
  if (row.state === 'in_progress' && row.lease_expires_at !== null) {
    const leaseExpiresAt = readTime(row.lease_expires_at);
    if (leaseExpiresAt.getTime() > now.getTime()) return { kind: 'in_progress', leaseExpiresAt };
  }
  return 'take';
}
