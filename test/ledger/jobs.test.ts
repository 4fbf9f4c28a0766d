// Job leases on every backend: one holder at a time, runs spaced by next_run_at, progress kept only by the holder.
import { describe, expect, it } from 'vitest';
import { createLedger } from '../../src/ledger/create-ledger.js';
import { ledgerBackends, postgresBackend, useTestLedger } from '../helpers/ledger.js';
import { at, T0 } from './fixtures.js';

const LEASE = 30_000;
const take = (holder: string, now = T0) => ({ job: 'reconcile', holder, now, leaseMs: LEASE });

for (const backend of ledgerBackends) {
  describe.skipIf(backend.skip)(`job leases on ${backend.name}`, () => {
    const db = useTestLedger(backend);

    it('when a job runs for the first time, then its row is made, held by the taker, with empty progress', async () => {
      const { ledger } = db();

      expect(await ledger.jobStatus('reconcile')).toBeNull();
      const taken = await ledger.takeJob(take('a'));

      expect(taken).toEqual({ kind: 'taken', job: { state: {}, lastSuccessAt: null, nextRunAt: T0, holder: 'a' } });
    });

    it('when another holder asks while the lease runs, then it is busy; after the lease ran out, it takes over', async () => {
      const { ledger } = db();
      await ledger.takeJob(take('a'));

      expect((await ledger.takeJob(take('b', at(LEASE - 1)))).kind).toBe('busy');
      expect(await ledger.takeJob(take('b', at(LEASE)))).toMatchObject({ kind: 'taken', job: { holder: 'b' } });
      // The first holder, late, can no longer save or finish.
      expect(await ledger.saveJob({ job: 'reconcile', holder: 'a', now: at(LEASE), leaseMs: LEASE, state: { cursor: 'evt_a' } })).toBe(false);
      expect(await ledger.finishJob({ job: 'reconcile', holder: 'a', now: at(LEASE), nextRunAt: at(LEASE), succeeded: true, state: { cursor: 'evt_a' } })).toBe(false);
      expect((await ledger.jobStatus('reconcile'))?.state).toEqual({});
    });

    it('when a run finishes, then the lease is free, the next run waits for nextRunAt, and a success keeps the progress and time', async () => {
      const { ledger } = db();
      await ledger.takeJob(take('a'));
      expect(await ledger.saveJob({ job: 'reconcile', holder: 'a', now: at(10), leaseMs: LEASE, state: { cursor: 'evt_1' } })).toBe(true);

      expect(await ledger.finishJob({ job: 'reconcile', holder: 'a', now: at(20), nextRunAt: at(60_000), succeeded: true, state: { cursor: 'evt_2' } })).toBe(true);

      expect(await ledger.jobStatus('reconcile')).toEqual({ state: { cursor: 'evt_2' }, lastSuccessAt: at(20), nextRunAt: at(60_000), holder: null });
      expect((await ledger.takeJob(take('b', at(59_999)))).kind).toBe('not_due');
      expect(await ledger.takeJob(take('b', at(60_000)))).toMatchObject({ kind: 'taken', job: { state: { cursor: 'evt_2' } } });
    });

    it('when a run fails, then its saved progress stays but no success is recorded', async () => {
      const { ledger } = db();
      await ledger.takeJob(take('a'));
      await ledger.saveJob({ job: 'reconcile', holder: 'a', now: at(10), leaseMs: LEASE, state: { cursor: 'evt_1' } });

      await ledger.finishJob({ job: 'reconcile', holder: 'a', now: at(20), nextRunAt: at(1_000), succeeded: false, state: { cursor: 'evt_ignored' } });

      expect(await ledger.jobStatus('reconcile')).toEqual({ state: { cursor: 'evt_1' }, lastSuccessAt: null, nextRunAt: at(1_000), holder: null });
    });

    it('when saving, then the lease is extended from that moment', async () => {
      const { ledger } = db();
      await ledger.takeJob(take('a'));
      await ledger.saveJob({ job: 'reconcile', holder: 'a', now: at(LEASE - 1), leaseMs: LEASE, state: {} });

      expect((await ledger.takeJob(take('b', at(LEASE)))).kind).toBe('busy');
      expect((await ledger.takeJob(take('b', at(2 * LEASE - 1)))).kind).toBe('taken');
    });
  });
}

describe.skipIf(postgresBackend.skip)(`job leases between replicas on ${postgresBackend.name}`, () => {
  const db = useTestLedger(postgresBackend);

  it('when many replicas ask for a due job at the same moment, then exactly one takes it', async () => {
    const replicas = await Promise.all(Array.from({ length: 4 }, () => createLedger({ kind: 'postgres', databaseUrl: db().databaseUrl ?? '' })));
    try {
      await db().ledger.takeJob(take('first'));
      await db().ledger.finishJob({ job: 'reconcile', holder: 'first', now: T0, nextRunAt: at(1), succeeded: true });

      const takes = await Promise.all(replicas.flatMap((ledger, r) => [0, 1, 2].map((n) => ledger.takeJob(take(`r${r}-${n}`, at(5))))));

      expect(takes.filter((t) => t.kind === 'taken')).toHaveLength(1);
      expect(takes.filter((t) => t.kind === 'busy')).toHaveLength(11);
    } finally {
      await Promise.all(replicas.map((ledger) => ledger.close()));
    }
  });
});
