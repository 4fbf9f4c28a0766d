// Idempotency records on every backend: begin, complete, release, prune, and begins racing each other.
import { describe, expect, it } from 'vitest';
import { ledgerBackends, useTestLedger } from '../helpers/ledger.js';
import { at, beginInput, refund, T0 } from './fixtures.js';

interface RecordRow {
  state: string;
  request_id: string;
  refund_id: string | null;
  lease_expires_at: string | null;
}

for (const backend of ledgerBackends) {
  describe.skipIf(backend.skip)(`idempotency records on ${backend.name}`, () => {
    const db = useTestLedger(backend);
    const row = async (scope = beginInput().scope): Promise<RecordRow | undefined> =>
      (await db().sql.query<RecordRow>('SELECT * FROM idempotency_records WHERE scope = $1', [scope]))[0];

    it('when a key is new, then the attempt starts under its own request id and holds a lease', async () => {
      const begun = await db().ledger.beginIdempotent(beginInput({ requestId: 'req_a', leaseMs: 5_000 }));

      expect(begun).toEqual({ kind: 'started', requestId: 'req_a' });
      const stored = await row();
      expect(stored?.state).toBe('in_progress');
      expect(stored?.lease_expires_at).toBe(at(5_000).toISOString());
    });

    it('when a key is held and its lease has not run out, then another attempt is told in_progress', async () => {
      const { ledger } = db();
      await ledger.beginIdempotent(beginInput({ leaseMs: 1_000 }));

      expect(await ledger.beginIdempotent(beginInput({ requestId: 'req_b', now: at(999) }))).toEqual({ kind: 'in_progress', leaseExpiresAt: at(1_000) });
    });

    it('when ten attempts begin the same new key at once, then exactly one starts and the rest are in progress', async () => {
      const { ledger } = db();
      for (let round = 0; round < 5; round += 1) {
        const scope = `billing\nPOST /v1/refunds\nrace-${round}`;
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => ledger.beginIdempotent(beginInput({ scope, requestId: `req_${i}` }))),
        );

        const started = results.filter((r) => r.kind === 'started');
        expect(started).toHaveLength(1);
        expect(results.filter((r) => r.kind === 'in_progress')).toHaveLength(9);
        expect((await row(scope))?.request_id).toBe(started[0]?.kind === 'started' ? started[0].requestId : undefined);
      }
    });

    it('when an attempt is released, then the next one resumes with the first attempt’s request id', async () => {
      const { ledger } = db();
      await ledger.beginIdempotent(beginInput({ requestId: 'req_first' }));
      await ledger.releaseIdempotent(beginInput().scope, 'req_first');
      expect((await row())?.state).toBe('open');

      const resumed = await ledger.beginIdempotent(beginInput({ requestId: 'req_second', now: at(10) }));

      expect(resumed).toEqual({ kind: 'resumed', requestId: 'req_first' });
      expect((await row())?.state).toBe('in_progress');
      // The resumed attempt holds the record now.
      expect(await ledger.beginIdempotent(beginInput({ requestId: 'req_third', now: at(20) }))).toMatchObject({ kind: 'in_progress' });
    });

    it('when the lease runs out, then the next attempt resumes with the first request id under a new lease', async () => {
      const { ledger } = db();
      await ledger.beginIdempotent(beginInput({ requestId: 'req_first', leaseMs: 1_000 }));

      expect(await ledger.beginIdempotent(beginInput({ requestId: 'req_2', now: at(1_000), leaseMs: 1_000 }))).toEqual({
        kind: 'resumed',
        requestId: 'req_first',
      });
      expect(await ledger.beginIdempotent(beginInput({ requestId: 'req_3', now: at(1_999), leaseMs: 1_000 }))).toMatchObject({ kind: 'in_progress' });
      expect(await ledger.beginIdempotent(beginInput({ requestId: 'req_4', now: at(2_000), leaseMs: 1_000 }))).toEqual({
        kind: 'resumed',
        requestId: 'req_first',
      });
    });

    it('when several attempts resume a released key at once, then exactly one resumes', async () => {
      const { ledger } = db();
      // Several rounds: a lost race shows only now and then, so give it many chances to show.
      for (let round = 0; round < 5; round += 1) {
        const scope = `billing\nPOST /v1/refunds\nrace-${round}`;
        await ledger.beginIdempotent(beginInput({ scope, requestId: 'req_first' }));
        await ledger.releaseIdempotent(scope, 'req_first');

        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => ledger.beginIdempotent(beginInput({ scope, requestId: `req_${i}`, now: at(10) }))),
        );

        expect(results.filter((r) => r.kind === 'resumed')).toEqual([{ kind: 'resumed', requestId: 'req_first' }]);
        expect(results.filter((r) => r.kind === 'in_progress')).toHaveLength(9);
      }
    });

    it('when a record is completed, then the same request replays the outcome exactly as stored', async () => {
      const { ledger } = db();
      const outcome = { ok: true, value: { zeta: 'last key first', id: 're_1', amount: 2500, nested: [1, 'two', null] } };
      await ledger.beginIdempotent(beginInput());
      await ledger.completeIdempotent({ scope: beginInput().scope, holder: 'req_first', outcome, refund: refund({ id: 're_1' }), now: at(100) });

      const replay = await ledger.beginIdempotent(beginInput({ requestId: 'req_again', now: at(200) }));

      expect(replay).toEqual({ kind: 'replay', outcome });
      // Key order survives too (json, not jsonb), so a replayed body is the first one, byte for byte.
      expect(JSON.stringify(replay.kind === 'replay' ? replay.outcome : null)).toBe(JSON.stringify(outcome));
      expect(await row()).toMatchObject({ state: 'completed', refund_id: 're_1', lease_expires_at: null });
    });

    it('when a completed record is released, then it still replays', async () => {
      const { ledger } = db();
      await ledger.beginIdempotent(beginInput());
      await ledger.completeIdempotent({ scope: beginInput().scope, holder: 'req_first', outcome: { ok: false }, refund: null, now: at(1) });

      await ledger.releaseIdempotent(beginInput().scope, 'req_first');

      expect(await ledger.beginIdempotent(beginInput({ now: at(2) }))).toEqual({ kind: 'replay', outcome: { ok: false } });
    });

    it.each([
      ['in progress', async () => undefined],
      ['released', async (scope: string, l: ReturnType<typeof db>['ledger']) => l.releaseIdempotent(scope, 'req_first')],
      [
        'completed',
        async (scope: string, l: ReturnType<typeof db>['ledger']) =>
          l.completeIdempotent({ scope, holder: 'req_first', outcome: { ok: true }, refund: refund({ id: 're_1' }), now: T0 }),
      ],
    ])('when the key is %s and the request differs, then it is a mismatch', async (_state, settle) => {
      const { ledger } = db();
      await ledger.beginIdempotent(beginInput());
      await settle(beginInput().scope, ledger);

      const other = await ledger.beginIdempotent(beginInput({ fingerprint: 'fp-other', requestId: 'req_x', now: at(1) }));
      const afterLease = await ledger.beginIdempotent(beginInput({ fingerprint: 'fp-other', now: at(10 * 60_000) }));

      expect(other).toEqual({ kind: 'mismatch' });
      expect(afterLease).toEqual({ kind: 'mismatch' });
      expect((await row())?.request_id).toBe('req_first');
    });

    it('when the same key comes under another scope, then it is a separate record', async () => {
      const { ledger } = db();
      await ledger.beginIdempotent(beginInput());

      const other = await ledger.beginIdempotent(beginInput({ scope: 'support\nPOST /v1/refunds\nkey-1', requestId: 'req_s' }));

      expect(other).toEqual({ kind: 'started', requestId: 'req_s' });
    });

    it('when pruning, then completed records created before the cutoff are deleted and counted, and their keys start afresh', async () => {
      const { ledger } = db();
      await ledger.beginIdempotent(beginInput({ scope: 'old-1', now: at(0) }));
      await ledger.completeIdempotent({ scope: 'old-1', holder: 'req_first', outcome: {}, refund: null, now: at(1) });
      await ledger.beginIdempotent(beginInput({ scope: 'old-2', now: at(999) }));
      await ledger.completeIdempotent({ scope: 'old-2', holder: 'req_first', outcome: {}, refund: null, now: at(5_000) });
      await ledger.beginIdempotent(beginInput({ scope: 'kept', now: at(1_000) }));
      await ledger.completeIdempotent({ scope: 'kept', holder: 'req_first', outcome: {}, refund: null, now: at(1_001) });

      expect(await ledger.pruneIdempotency(at(1_000))).toBe(2);

      expect(await ledger.pruneIdempotency(at(1_000))).toBe(0);
      expect(await row('kept')).toBeDefined();
      expect(await ledger.beginIdempotent(beginInput({ scope: 'old-2', requestId: 'req_new', now: at(6_000) }))).toEqual({
        kind: 'started',
        requestId: 'req_new',
      });
    });

    it('when pruning, then records whose outcome is unknown (open, in progress) are kept, however old', async () => {
      const { ledger } = db();
      await ledger.beginIdempotent(beginInput({ scope: 'open', now: at(0) }));
      await ledger.releaseIdempotent('open', 'req_first');
      await ledger.beginIdempotent(beginInput({ scope: 'running', now: at(0) }));

      expect(await ledger.pruneIdempotency(at(10_000_000))).toBe(0);
      expect(await ledger.beginIdempotent(beginInput({ scope: 'open', requestId: 'req_late', now: at(10_000_000) }))).toEqual({
        kind: 'resumed',
        requestId: 'req_first',
      });
    });

    it('when an attempt whose lease ran out comes back late, then it can neither complete nor release the record the next attempt holds', async () => {
      const { ledger } = db();
      await ledger.beginIdempotent(beginInput({ requestId: 'req_first', leaseMs: 1_000 }));
      expect(await ledger.beginIdempotent(beginInput({ requestId: 'req_second', now: at(1_000) }))).toEqual({ kind: 'resumed', requestId: 'req_first' });

      await ledger.releaseIdempotent(beginInput().scope, 'req_first');
      expect(await ledger.beginIdempotent(beginInput({ requestId: 'req_third', now: at(1_001) }))).toMatchObject({ kind: 'in_progress' });
      expect(await ledger.completeIdempotent({ scope: beginInput().scope, holder: 'req_first', outcome: { late: true }, refund: null, now: at(1_002) })).toBe(false);

      expect(await ledger.completeIdempotent({ scope: beginInput().scope, holder: 'req_second', outcome: { first: true }, refund: refund({ id: 're_1' }), now: at(1_003) })).toBe(true);
      expect(await ledger.completeIdempotent({ scope: beginInput().scope, holder: 'req_second', outcome: { again: true }, refund: null, now: at(1_004) })).toBe(false);
      expect(await ledger.beginIdempotent(beginInput({ requestId: 'req_fourth', now: at(1_005) }))).toEqual({ kind: 'replay', outcome: { first: true } });
    });
  });
}
