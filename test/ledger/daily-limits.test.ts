// The daily limit's reservations on every backend: one conditional write each, never past the cap, even from two replicas at once.
import { afterEach, describe, expect, it } from 'vitest';
import { createLedger } from '../../src/ledger/create-ledger.js';
import type { Ledger, ReserveDailyInput } from '../../src/refunds/ledger.js';
import { ledgerBackends, postgresBackend, useTestLedger } from '../helpers/ledger.js';
import { at, T0 } from './fixtures.js';

const DAY = '2026-11-27';
const reservation = (overrides: Partial<ReserveDailyInput> = {}): ReserveDailyInput => ({
  id: 'gwr_1',
  caller: 'support',
  currency: 'usd',
  day: DAY,
  amount: 1_000,
  cap: 5_000,
  now: T0,
  ...overrides,
});

for (const backend of ledgerBackends) {
  describe.skipIf(backend.skip)(`daily limits on ${backend.name}`, () => {
    const db = useTestLedger(backend);
    const used = (over: Partial<{ caller: string; currency: string; day: string }> = {}) =>
      db().ledger.dailyUsed({ caller: 'support', currency: 'usd', day: DAY, ...over });

    it('when reservations add up to the cap exactly, then each is reserved; one more unit is refused with what the day holds', async () => {
      const { ledger } = db();
      expect(await ledger.reserveDaily(reservation({ id: 'a', amount: 3_000 }))).toEqual({ reserved: true, already: false });
      expect(await ledger.reserveDaily(reservation({ id: 'b', amount: 2_000 }))).toEqual({ reserved: true, already: false });
      expect(await ledger.reserveDaily(reservation({ id: 'c', amount: 1 }))).toEqual({ reserved: false, used: 5_000 });
      expect(await used()).toBe(5_000);
      // The refused one left no row behind that a retry could mistake for a reservation.
      expect(await db().sql.query(`SELECT id FROM limit_reservations ORDER BY id`)).toEqual([{ id: 'a' }, { id: 'b' }]);
    });

    it('when one amount alone is over the cap, then it is refused on an empty day and nothing is counted', async () => {
      expect(await db().ledger.reserveDaily(reservation({ amount: 5_001 }))).toEqual({ reserved: false, used: 0 });
      expect(await used()).toBe(0);
    });

    it('when the same request reserves again (a retry), then nothing more is counted', async () => {
      const { ledger } = db();
      await ledger.reserveDaily(reservation({ amount: 4_000 }));
      expect(await ledger.reserveDaily(reservation({ amount: 4_000, now: at(1_000) }))).toEqual({ reserved: true, already: true });
      expect(await used()).toBe(4_000);
    });

    it('when a reservation is released, then the day gets it back once; the same request may then reserve again', async () => {
      const { ledger } = db();
      await ledger.reserveDaily(reservation({ amount: 4_000 }));
      expect(await ledger.releaseDaily('gwr_1', at(1))).toBe(true);
      expect(await ledger.releaseDaily('gwr_1', at(2))).toBe(false);
      expect(await ledger.releaseDaily('gwr_unknown', at(2))).toBe(false);
      expect(await used()).toBe(0);
      expect(await ledger.reserveDaily(reservation({ amount: 4_000, now: at(3) }))).toEqual({ reserved: true, already: false });
      expect(await used()).toBe(4_000);
    });

    it('when callers, currencies and days differ, then each counts apart', async () => {
      const { ledger } = db();
      await ledger.reserveDaily(reservation({ id: 'a', amount: 5_000 }));
      expect(await ledger.reserveDaily(reservation({ id: 'b', caller: 'billing', amount: 5_000 }))).toMatchObject({ reserved: true });
      expect(await ledger.reserveDaily(reservation({ id: 'c', currency: 'eur', amount: 5_000 }))).toMatchObject({ reserved: true });
      expect(await ledger.reserveDaily(reservation({ id: 'd', day: '2026-11-28', amount: 5_000 }))).toMatchObject({ reserved: true });
      expect(await ledger.reserveDaily(reservation({ id: 'e', amount: 1 }))).toEqual({ reserved: false, used: 5_000 });
      expect([await used(), await used({ caller: 'billing' }), await used({ currency: 'eur' }), await used({ day: '2026-11-28' })]).toEqual([
        5_000, 5_000, 5_000, 5_000,
      ]);
    });

    it('when 20 reservations race for one day, then exactly as many as fit are reserved and the total is never past the cap', async () => {
      const { ledger } = db();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.reserveDaily(reservation({ id: `race-${i}`, amount: 700 }))));
      expect(results.filter((r) => r.reserved)).toHaveLength(7);
      expect(await used()).toBe(4_900);
      const [rows] = await db().sql.query<{ n: number | string; total: number | string }>(
        `SELECT count(*) AS n, sum(amount) AS total FROM limit_reservations WHERE state = 'held'`,
      );
      expect({ n: Number(rows?.n), total: Number(rows?.total) }).toEqual({ n: 7, total: 4_900 });
    });

    it('when old days are pruned, then their reservations and totals go and today stays', async () => {
      const { ledger } = db();
      await ledger.reserveDaily(reservation({ id: 'old', day: '2026-10-01' }));
      await ledger.reserveDaily(reservation({ id: 'today' }));
      expect(await ledger.pruneDailyLimits('2026-11-01')).toBe(1);
      expect(await used({ day: '2026-10-01' })).toBe(0);
      expect(await used()).toBe(1_000);
      expect(await db().sql.query('SELECT id FROM limit_reservations')).toEqual([{ id: 'today' }]);
    });
  });
}

describe.skipIf(postgresBackend.skip)(`the daily limit across replicas on ${postgresBackend.name}`, () => {
  const db = useTestLedger(postgresBackend);
  const opened: Ledger[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((l) => l.close()));
  });

  it('when two replicas reserve for one caller at once, then together they never pass the cap', async () => {
    const other = await createLedger({ kind: 'postgres', databaseUrl: db().databaseUrl! });
    opened.push(other);
    const replicas = [db().ledger, other];
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => replicas[i % 2]!.reserveDaily(reservation({ id: `replica-${i}`, amount: 300, cap: 5_000 }))),
    );
    expect(results.filter((r) => r.reserved)).toHaveLength(16);
    expect(await db().ledger.dailyUsed({ caller: 'support', currency: 'usd', day: DAY })).toBe(4_800);
  });
});
