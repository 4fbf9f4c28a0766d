// The Ledger port over a SqlClient: the one implementation that runs on both PostgreSQL and PGlite.
import type { Ledger } from '../refunds/ledger.js';
import { beginIdempotent, completeIdempotent, pruneIdempotency, releaseIdempotent } from './idempotency-records.js';
import type { LedgerLogger } from './ledger-logger.js';
import { silentLogger } from './ledger-logger.js';
import { withPaymentLock } from './payment-lock.js';
import { getIndexedRefund, listIndexedRefunds, recordRefund } from './refund-index.js';
import type { SqlClient } from './sql-client.js';

/** Expects a migrated database; `createLedger` migrates first. `close` closes the client. */
export function createSqlLedger(client: SqlClient, logger: LedgerLogger = silentLogger): Ledger {
  return {
    beginIdempotent: (input) => beginIdempotent(client, input),
    completeIdempotent: (input) => completeIdempotent(client, input),
    releaseIdempotent: (scope, holder) => releaseIdempotent(client, scope, holder),
    pruneIdempotency: (before) => pruneIdempotency(client, before),
    recordRefund: (refund, now) => recordRefund(client, refund, now),
    getIndexedRefund: (id) => getIndexedRefund(client, id),
    listIndexedRefunds: (query) => listIndexedRefunds(client, query),
    withPaymentLock: (paymentKey, waitMs, fn) => withPaymentLock(client, logger, paymentKey, waitMs, fn),
    ping: async () => {
      await client.query('SELECT 1');
    },
    close: () => client.close(),
  };
}
