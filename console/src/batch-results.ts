// A batch's items as the downloadable results CSV: one row per item, with its refund, refund request or problem.
import { writeCsv } from './csv.js';
import type { BatchItem, RefundRequest } from './types.js';

export const RESULT_COLUMNS = [
  'key',
  'status',
  'charge',
  'payment_intent',
  'amount',
  'currency',
  'refund',
  'refund_status',
  'refund_request',
  'problem_code',
  'problem_detail',
] as const;

const requestOf = (item: BatchItem): RefundRequest | string | null => item.refund_request ?? item.request ?? null;

export function resultRow(item: BatchItem): (string | number | null)[] {
  const refund = item.refund ?? null;
  const request = requestOf(item);
  const requestObject = typeof request === 'object' ? request : null;
  return [
    item.key,
    item.status,
    item.charge ?? refund?.charge ?? requestObject?.request.charge ?? null,
    item.payment_intent ?? refund?.payment_intent ?? requestObject?.request.payment_intent ?? null,
    refund?.amount ?? item.amount ?? requestObject?.amount ?? null,
    refund?.currency ?? item.currency ?? requestObject?.currency ?? null,
    refund?.id ?? null,
    refund?.status ?? null,
    typeof request === 'string' ? request : (requestObject?.id ?? null),
    item.problem?.code ?? null,
    item.problem?.detail ?? null,
  ];
}

export const resultsCsv = (items: readonly BatchItem[]): string => writeCsv([[...RESULT_COLUMNS], ...items.map(resultRow)]);

/** A file to start from: the columns the console reads, one example row per way of naming the payment. */
export const TEMPLATE_CSV = writeCsv([
  ['key', 'payment_intent', 'charge', 'amount', 'reason', 'metadata.order'],
  ['order-1001-refund', 'pi_DemoSucceeded', '', 1000, 'requested_by_customer', '1001'],
  ['order-1002-refund', '', 'ch_DemoPartlyRefunded', '', 'duplicate', '1002'],
]);
