// The jobs table's rows as both backends return them.
import type { JobState } from '../refunds/ledger.js';
import { readJson, readTime } from './refund-rows.js';

export interface JobRow {
  holder: string | null;
  lease_until: Date | string | null;
  next_run_at: Date | string;
  state: Record<string, unknown> | string;
  last_success_at: Date | string | null;
}

export const JOB_COLUMNS = 'holder, lease_until, next_run_at, state, last_success_at';

export const toJobState = (row: JobRow): JobState => ({
  state: readJson<Record<string, unknown>>(row.state),
  lastSuccessAt: row.last_success_at === null ? null : readTime(row.last_success_at),
  nextRunAt: readTime(row.next_run_at),
  holder: row.holder,
});

/** Why a job was not taken: a holder whose lease still runs, or a next run still to come. */
export const untaken = (row: JobRow, now: Date): 'busy' | 'not_due' =>
  row.holder !== null && row.lease_until !== null && readTime(row.lease_until) > now ? 'busy' : 'not_due';
