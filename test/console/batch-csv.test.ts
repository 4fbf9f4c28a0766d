// The batch CSV is checked in the page before it is sent: every problem listed by line, nothing sent while one is left.
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_ITEMS, readBatchCsv } from '../../console/src/batch-csv.js';

const problemsOf = (text: string) => {
  const result = readBatchCsv(text);
  if (result.ok) throw new Error('expected problems');
  return result.problems;
};

describe('readBatchCsv', () => {
  it('when the file is valid, then each row is an item as POST /v1/refund-batches takes it', () => {
    const result = readBatchCsv(
      [
        'key,charge,payment_intent,amount,currency,reason,metadata.order',
        'r-1,,pi_DemoSucceeded,2500,USD,requested_by_customer,42',
        'r-2,ch_DemoPartlyRefunded,,,,,',
      ].join('\n'),
    );
    expect(result).toEqual({
      ok: true,
      items: [
        { key: 'r-1', payment_intent: 'pi_DemoSucceeded', amount: 2500, currency: 'usd', reason: 'requested_by_customer', metadata: { order: '42' } },
        { key: 'r-2', charge: 'ch_DemoPartlyRefunded' },
      ],
    });
  });

  it('when the columns come in another order, then the cells are read by their header', () => {
    const result = readBatchCsv('amount,key,payment_intent\n100,k,pi_A1\n');
    expect(result).toEqual({ ok: true, items: [{ key: 'k', payment_intent: 'pi_A1', amount: 100 }] });
  });

  it('when the header lacks key or a payment column, or has an unknown one, then the header is refused', () => {
    expect(problemsOf('charge,amount\nch_1,100\n').map((p) => p.message)).toEqual([expect.stringContaining('"key" column')]);
    expect(problemsOf('key,amount\nk,100\n').map((p) => p.message)).toEqual([expect.stringContaining('"charge" or a "payment_intent"')]);
    expect(problemsOf('key,charge,amonut\nk,ch_1,100\n')).toEqual([{ line: 1, message: expect.stringContaining('Unknown column "amonut"') }]);
  });

  it('when several rows are wrong, then every problem is listed with its line', () => {
    const problems = problemsOf(
      [
        'key,charge,payment_intent,amount,reason',
        'ok-1,ch_1,,100,',
        'bad-both,ch_1,pi_1,100,',
        'bad-amount,ch_1,,12.50,',
        'bad-reason,ch_1,,,because',
        'ok-1,ch_2,,,',
        'bad-id,re_1,,,',
        ',ch_3,,,',
        'short,ch_4',
      ].join('\n'),
    );
    expect(problems.map((p) => p.line)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(problems[0]?.message).toContain('exactly one of charge and payment_intent');
    expect(problems[1]?.message).toContain('whole number of minor units');
    expect(problems[2]?.message).toContain('"because"');
    expect(problems[3]?.message).toContain('already used on line 2');
    expect(problems[4]?.message).toContain('not a charge id');
    expect(problems[5]?.message).toContain('1–255 printable ASCII');
    expect(problems[6]?.message).toContain('2 cells');
  });

  it('when an amount is zero or above Stripe’s eight digits, then it is refused', () => {
    expect(problemsOf('key,charge,amount\na,ch_1,0\nb,ch_1,100000000\n').map((p) => p.line)).toEqual([2, 3]);
  });

  it('when a metadata key is reserved or too long, then it is refused', () => {
    expect(problemsOf('key,charge,metadata.gateway_caller\na,ch_1,x\n')[0]?.message).toContain('gateway_');
    expect(problemsOf(`key,charge,metadata.${'k'.repeat(41)}\na,ch_1,x\n`)[0]?.message).toContain('40 characters');
  });

  it('when the file is empty, has no rows, or has more than 10000, then it says so', () => {
    expect(problemsOf('')[0]?.message).toContain('empty');
    expect(problemsOf('key,charge\n')[0]?.message).toContain('no refunds');
    const rows = Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) => `k${i},ch_${i}`);
    expect(problemsOf(['key,charge', ...rows].join('\n'))[0]?.message).toContain('at most 10000');
  });

  it('when the file has 10000 rows, then all are read', () => {
    const rows = Array.from({ length: MAX_BATCH_ITEMS }, (_, i) => `k${i},ch_${i}`);
    const result = readBatchCsv(['key,charge', ...rows].join('\n'));
    expect(result.ok && result.items.length).toBe(MAX_BATCH_ITEMS);
  });

  it('when the file is not CSV, then its line is named', () => {
    expect(problemsOf('key,charge\nk,"ch_1\n')).toEqual([{ line: 2, message: expect.stringContaining('not valid CSV') }]);
  });
});
