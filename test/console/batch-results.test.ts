// A batch's results as CSV: one row per item, whatever the item became (refund, refund request or refusal).
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../console/src/csv.js';
import { readBatchCsv } from '../../console/src/batch-csv.js';
import { RESULT_COLUMNS, resultRow, resultsCsv, TEMPLATE_CSV } from '../../console/src/batch-results.js';
import type { BatchItem, Refund, RefundRequest } from '../../console/src/types.js';

const refund: Refund = {
  id: 're_1',
  amount: 2500,
  currency: 'usd',
  status: 'succeeded',
  charge: 'ch_1',
  payment_intent: 'pi_1',
  reason: null,
  failure_reason: null,
  metadata: {},
  requested_by: 'billing',
  created: '2026-12-03T09:00:00Z',
};
const request = { id: 'rr_1', amount: 30000, currency: 'usd', request: { charge: 'ch_2', amount: 30000 } } as RefundRequest;

describe('batch results', () => {
  it('when an item was refunded, then its row names the refund, its payment and amount', () => {
    expect(resultRow({ key: 'k1', status: 'refunded', refund })).toEqual(['k1', 'refunded', 'ch_1', 'pi_1', 2500, 'usd', 're_1', 'succeeded', null, null, null]);
  });

  it('when an item awaits approval, then its row names the request, given as an object or as an id', () => {
    expect(resultRow({ key: 'k2', status: 'awaiting_approval', refund_request: request })).toEqual(['k2', 'awaiting_approval', 'ch_2', null, 30000, 'usd', null, null, 'rr_1', null, null]);
    expect(resultRow({ key: 'k3', status: 'awaiting_approval', request: 'rr_9', charge: 'ch_3' })[8]).toBe('rr_9');
  });

  it('when an item was refused, then its row carries the problem’s code and detail', () => {
    const item: BatchItem = { key: 'k4', status: 'refused', payment_intent: 'pi_4', problem: { status: 409, code: 'charge_already_refunded', detail: 'Charge ch_4 has already been refunded in full.' } };
    expect(resultRow(item).slice(9)).toEqual(['charge_already_refunded', 'Charge ch_4 has already been refunded in full.']);
  });

  it('when the results are written, then the CSV reads back with a header and one row per item', () => {
    const parsed = parseCsv(resultsCsv([{ key: 'k1', status: 'refunded', refund }, { key: '=cmd', status: 'failed', problem: { status: 502, code: 'upstream_error', detail: 'Stripe, "again"' } }]));
    expect(parsed.ok && parsed.rows.map((r) => r.cells)).toEqual([
      [...RESULT_COLUMNS],
      ['k1', 'refunded', 'ch_1', 'pi_1', '2500', 'usd', 're_1', 'succeeded', '', '', ''],
      ["'=cmd", 'failed', '', '', '', '', '', '', '', 'upstream_error', 'Stripe, "again"'],
    ]);
  });

  it('when the template is downloaded, then it is a batch file the page accepts', () => {
    expect(readBatchCsv(TEMPLATE_CSV)).toMatchObject({ ok: true, items: [{ key: 'order-1001-refund', amount: 1000 }, { key: 'order-1002-refund', charge: 'ch_DemoPartlyRefunded' }] });
  });
});
