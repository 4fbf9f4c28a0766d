// A batch CSV checked in the page before anything is sent: columns, ids, amounts, reasons, keys (unique), metadata.
import { parseCsv } from './csv.js';
import { REFUND_REASONS, type BatchItemInput, type RefundReason } from './types.js';

/** As the gateway checks them (contract: Conventions, POST /v1/refunds, Refund batches). */
export const MAX_BATCH_ITEMS = 10_000;
const CHARGE_ID = /^(ch|py)_[A-Za-z0-9]{1,250}$/;
const PAYMENT_INTENT_ID = /^pi_[A-Za-z0-9]{1,250}$/;
const ITEM_KEY = /^[\x20-\x7e]{1,255}$/;
const MAX_AMOUNT = 99_999_999;
const METADATA_PREFIX = 'metadata.';

const KNOWN_COLUMNS = ['charge', 'payment_intent', 'amount', 'currency', 'reason', 'key'] as const;

export interface BatchProblem {
  /** The file's line (1 is the header). */
  line: number;
  message: string;
}

export type BatchCsv = { ok: true; items: BatchItemInput[] } | { ok: false; problems: BatchProblem[] };

/**
 * Reads a batch CSV: a header row naming `key`, `charge` and/or `payment_intent` (one of them filled per row),
 * optional `amount` (minor units; blank = everything still refundable), `currency`, `reason` and `metadata.<name>`
 * columns. Every problem is listed, as the gateway would, so a file is fixed in one go.
 */
export function readBatchCsv(text: string): BatchCsv {
  const parsed = parseCsv(text);
  if (!parsed.ok) return { ok: false, problems: [{ line: parsed.line, message: `The file is not valid CSV: ${parsed.message}.` }] };
  const [header, ...rows] = parsed.rows;
  if (!header) return { ok: false, problems: [{ line: 1, message: 'The file is empty: it needs a header row and one row per refund.' }] };

  const problems: BatchProblem[] = [];
  const columns = header.cells.map((c) => c.trim());
  const seen = new Set<string>();
  columns.forEach((name) => {
    if (seen.has(name)) problems.push({ line: 1, message: `The column "${name}" appears twice.` });
    seen.add(name);
    const known = (KNOWN_COLUMNS as readonly string[]).includes(name) || (name.startsWith(METADATA_PREFIX) && name.length > METADATA_PREFIX.length);
    if (!known) problems.push({ line: 1, message: `Unknown column "${name}"; the columns are ${KNOWN_COLUMNS.join(', ')} and metadata.<name>.` });
  });
  if (!seen.has('key')) problems.push({ line: 1, message: 'The header needs a "key" column: each refund’s own idempotency key.' });
  if (!seen.has('charge') && !seen.has('payment_intent')) problems.push({ line: 1, message: 'The header needs a "charge" or a "payment_intent" column.' });
  if (problems.length > 0) return { ok: false, problems };
  if (rows.length === 0) return { ok: false, problems: [{ line: 2, message: 'The file has a header but no refunds.' }] };
  if (rows.length > MAX_BATCH_ITEMS) return { ok: false, problems: [{ line: 1, message: `A batch holds at most ${MAX_BATCH_ITEMS} refunds; this file has ${rows.length}.` }] };

  const keys = new Map<string, number>();
  const items: BatchItemInput[] = [];
  for (const row of rows) {
    const at = (name: string): string => (row.cells[columns.indexOf(name)] ?? '').trim();
    const fail = (message: string) => problems.push({ line: row.line, message });
    if (row.cells.length !== columns.length) {
      fail(`It has ${row.cells.length} cells; the header has ${columns.length}.`);
      continue;
    }
    const item: BatchItemInput = { key: at('key') };
    if (!ITEM_KEY.test(item.key)) fail('The key must be 1–255 printable ASCII characters.');
    else if (keys.has(item.key)) fail(`The key "${item.key}" is already used on line ${keys.get(item.key)}.`);
    else keys.set(item.key, row.line);

    const charge = at('charge');
    const paymentIntent = at('payment_intent');
    if ((charge === '') === (paymentIntent === '')) fail('Fill exactly one of charge and payment_intent.');
    else if (charge !== '' && !CHARGE_ID.test(charge)) fail(`"${charge}" is not a charge id (ch_… or py_…).`);
    else if (paymentIntent !== '' && !PAYMENT_INTENT_ID.test(paymentIntent)) fail(`"${paymentIntent}" is not a PaymentIntent id (pi_…).`);
    if (charge !== '') item.charge = charge;
    if (paymentIntent !== '') item.payment_intent = paymentIntent;

    const amount = at('amount');
    if (amount !== '') {
      if (!/^\d+$/.test(amount) || Number(amount) < 1 || Number(amount) > MAX_AMOUNT) {
        fail(`The amount "${amount}" must be a whole number of minor units from 1 to ${MAX_AMOUNT} (2500 is $25.00), or blank for everything left.`);
      } else item.amount = Number(amount);
    }
    const currency = at('currency').toLowerCase();
    if (currency !== '') {
      if (!/^[a-z]{3}$/.test(currency)) fail(`The currency "${currency}" is not a three-letter ISO 4217 code.`);
      else item.currency = currency;
    }
    const reason = at('reason');
    if (reason !== '') {
      if (!(REFUND_REASONS as readonly string[]).includes(reason)) fail(`The reason "${reason}" must be one of ${REFUND_REASONS.join(', ')}, or blank.`);
      else item.reason = reason as RefundReason;
    }
    const metadata: Record<string, string> = {};
    for (const name of columns.filter((c) => c.startsWith(METADATA_PREFIX))) {
      const key = name.slice(METADATA_PREFIX.length);
      const value = at(name);
      if (value === '') continue;
      if (key.length > 40 || /[[\]]/.test(key) || key.startsWith('gateway_')) fail(`The metadata key "${key}" must be at most 40 characters, without [ ] and not begin with gateway_.`);
      else if (value.length > 500) fail(`The metadata value of "${key}" is longer than 500 characters.`);
      else metadata[key] = value;
    }
    if (Object.keys(metadata).length > 48) fail('At most 48 metadata values per refund.');
    else if (Object.keys(metadata).length > 0) item.metadata = metadata;
    items.push(item);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, items };
}
