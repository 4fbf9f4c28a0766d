// Migrations on every backend: applied once, in order, atomically; a restart (or two replicas at once) changes nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLedger } from '../../src/ledger/create-ledger.js';
import { loadMigrations, runMigrations, type Migration } from '../../src/ledger/migrations.js';
import type { Ledger } from '../../src/refunds/ledger.js';
import { ledgerBackends, postgresBackend, useTestLedger } from '../helpers/ledger.js';
import { refund, T0 } from './fixtures.js';

const extra = (name: string, sql: string): Migration => ({ name, sql, checksum: `checksum of ${name}` });

const FILES = {
  sqlite: ['001-ledger.sql', '002-events.sql', '003-stripe-events.sql', '004-limits-and-refund-requests.sql', '005-refund-batches.sql'],
  postgres: [
    '001-idempotency-records.sql',
    '002-refund-index.sql',
    '003-idempotency-holder.sql',
    '004-events.sql',
    '005-stripe-events.sql',
    '006-limits-and-refund-requests.sql',
    '007-refund-batches.sql',
    '008-replicas.sql',
  ],
};

for (const backend of ledgerBackends) {
  describe.skipIf(backend.skip)(`migrations on ${backend.name}`, () => {
    const db = useTestLedger(backend);
    const applied = async () =>
      db().sql.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations ORDER BY name');
    const migrations = () => loadMigrations(db().backend);

    it('when the ledger has started, then every migration file is recorded once with its checksum', async () => {
      const files = await migrations();

      expect(files.map((m) => m.name)).toEqual(FILES[db().backend]);
      expect(await applied()).toEqual(files.map(({ name, checksum }) => ({ name, checksum })));
    });

    it('when migrations run again on an up-to-date database, then nothing is applied and the data stays', async () => {
      const { ledger, migrationTarget } = db();
      await ledger.recordRefund(refund(), T0);
      const before = await applied();

      expect(await runMigrations(migrationTarget, await migrations())).toEqual([]);

      expect(await applied()).toEqual(before);
      expect(await ledger.getIndexedRefund('re_1')).toEqual(refund());
    });

    it('when a new migration appears, then only it is applied', async () => {
      const all = [...(await migrations()), extra('900-note.sql', 'CREATE TABLE note (id int);')];

      expect(await runMigrations(db().migrationTarget, all)).toEqual(['900-note.sql']);
      expect(await db().sql.query('SELECT * FROM note')).toEqual([]);
    });

    it('when a migration fails halfway, then none of it, nor its record, is left behind', async () => {
      const all = [...(await migrations()), extra('900-broken.sql', 'CREATE TABLE half_done (id int); INSERT INTO no_such_table VALUES (1);')];

      await expect(runMigrations(db().migrationTarget, all)).rejects.toThrow(/no_such_table/);

      await expect(db().sql.query('SELECT * FROM half_done')).rejects.toThrow(/half_done/);
      expect((await applied()).map((m) => m.name)).not.toContain('900-broken.sql');
    });

    it('when an applied migration was edited, then the start stops and says so', async () => {
      const [first, ...rest] = await migrations();
      const edited = { ...first!, checksum: 'edited' };

      await expect(runMigrations(db().migrationTarget, [edited, ...rest])).rejects.toThrow(new RegExp(`${first!.name.replace('.', '\\.')} was changed`));
    });
  });
}

describe('the embedded ledger file', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('when the ledger is opened again on its file, then the data is there and nothing is migrated twice', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledger-restart-'));
    const logged: string[] = [];
    const logger = { info: (obj: object, msg: string) => logged.push(`${msg} ${JSON.stringify(obj)}`), warn: () => undefined };
    // Nested and not there yet, like a fresh volume.
    const path = join(dir, 'data', 'nested', 'ledger.db');
    const first = await createLedger({ kind: 'sqlite', path, logger });
    await first.recordRefund(refund(), T0);
    await first.close();
    const appliedAtFirstStart = logged.filter((l) => l.startsWith('ledger migration applied')).length;
    logged.length = 0;

    const second = await createLedger({ kind: 'sqlite', path, logger });
    const found = await second.getIndexedRefund('re_1');
    await second.close();

    expect(appliedAtFirstStart).toBe((await loadMigrations('sqlite')).length);
    expect(logged.filter((l) => l.startsWith('ledger migration applied'))).toEqual([]);
    expect(found).toEqual(refund());
  });

  it('when a second ledger opens a file this process already holds, then it is refused, naming the holder', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledger-held-'));
    const path = join(dir, 'ledger.db');
    const first = await createLedger({ kind: 'sqlite', path });
    try {
      await expect(createLedger({ kind: 'sqlite', path })).rejects.toThrow(new RegExp(`is held by process ${process.pid} on `));
    } finally {
      await first.close();
    }
    // Once closed, the file is free again.
    const again = await createLedger({ kind: 'sqlite', path });
    await again.close();
  });
});

describe.skipIf(postgresBackend.skip)(`replicas starting together on ${postgresBackend.name}`, () => {
  const db = useTestLedger(postgresBackend);
  const opened: Ledger[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((l) => l.close()));
  });

  it('when four replicas start at once on an empty database, then all start and each migration is applied once', async () => {
    await db().sql.exec(
      'DROP TABLE refund_batch_items, refund_batches, limit_reservations, daily_limit_totals, refund_requests, jobs, stripe_events, gateway_replicas, event_deliveries, events, refunds, idempotency_records, schema_migrations',
    );

    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => createLedger({ kind: 'postgres', databaseUrl: db().databaseUrl! })),
    );
    for (const r of results) if (r.status === 'fulfilled') opened.push(r.value);

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(await db().sql.query('SELECT name FROM schema_migrations ORDER BY name')).toEqual(FILES.postgres.map((name) => ({ name })));
  });

  it('when the schema is in place, then the refund index has its list-order, status, requested_by and unsettled indexes', async () => {
    const rows = await db().sql.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE tablename IN ('refunds', 'idempotency_records') ORDER BY indexname`,
    );

    expect(rows.map((r) => r.indexname)).toEqual([
      'idempotency_records_created_at_idx',
      'idempotency_records_pkey',
      'refunds_list_order_idx',
      'refunds_pkey',
      'refunds_requested_by_idx',
      'refunds_seq_key',
      'refunds_status_idx',
      'refunds_unsettled_idx',
    ]);
  });

  it('when a replica restarts on a database with data, then the data is there', async () => {
    await db().ledger.recordRefund(refund(), T0);

    const restarted = await createLedger({ kind: 'postgres', databaseUrl: db().databaseUrl! });
    opened.push(restarted);

    expect(await restarted.getIndexedRefund('re_1')).toEqual(refund());
  });
});
