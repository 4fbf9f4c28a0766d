// Which database failures mean "the ledger is unavailable" (503, retry) rather than a bug, for both backends.
import { GatewayError } from '../refunds/gateway-error.js';

/** SQLSTATE classes of a database that is down, restarting, overloaded or too slow: 08 connection, 53 resources, 57 operator (57014 is a statement timeout, 57P01 a terminated backend), 58 system. */
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58)/;
/** Lock not available, serialization failure, deadlock: the same statement may well pass on a retry. */
const TRANSIENT_SQLSTATE = new Set(['55P03', '40001', '40P01']);
/** What node and pg say when a connection cannot be made or dies under a query. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection ended|terminating connection/i;
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** better-sqlite3's codes for a file that cannot be used right now (locked, full, unreadable). */
const UNAVAILABLE_SQLITE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|NOMEM|PROTOCOL)/;

export function isLedgerUnavailable(error: unknown): boolean {
  if (error instanceof GatewayError) return error.code === 'ledger_unavailable';
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (UNAVAILABLE_SQLSTATE.test(code) || TRANSIENT_SQLSTATE.has(code) || UNAVAILABLE_ERRNO.has(code) || UNAVAILABLE_SQLITE.test(code)) {
      return true;
    }
  }
  return typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
}

export const ledgerUnavailable = (cause: unknown, what = 'The ledger did not answer'): GatewayError =>
  new GatewayError('ledger_unavailable', `${what}; nothing was sent to Stripe for this request. Retry shortly.`, {
    retryAfterSeconds: 2,
    cause,
  });

/** Runs one ledger operation; a database that is down or too slow becomes `ledger_unavailable`, anything else passes. */
export async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw isLedgerUnavailable(error) && !(error instanceof GatewayError) ? ledgerUnavailable(error) : error;
  }
}
