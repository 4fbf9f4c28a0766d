// Maps a lock name to the signed 64-bit key PostgreSQL advisory locks take.
import { createHash } from 'node:crypto';

/** Every kind of thing the ledger locks; a namespace keeps two kinds from ever sharing a key by construction. */
export type LockNamespace = 'payment' | 'migrations' | 'job';

/**
 * The first 8 bytes of sha-256, read as a signed int8, as a decimal string. The gateway makes these digits itself,
 * so they may be written into SQL text (one simple-protocol round trip, no parameters).
 */
export function advisoryLockKey(namespace: LockNamespace, name: string): string {
  return createHash('sha256').update(`refund-gateway:${namespace}:${name}`).digest().readBigInt64BE(0).toString();
}
