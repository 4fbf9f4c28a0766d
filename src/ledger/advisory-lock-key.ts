// Maps a lock name to the signed 64-bit key PostgreSQL advisory locks take.
import { createHash } from 'node:crypto';

/**
 * The first 8 bytes of sha-256, read as a signed int8 and passed as text (`$1::bigint`): pg and PGlite would each
 * serialise a JS bigint their own way, a decimal string the same way. The namespace keeps payment keys and the
 * migration lock from ever sharing a key by construction.
 */
export function advisoryLockKey(namespace: 'payment' | 'migrations', name: string): string {
  return createHash('sha256').update(`refund-gateway:${namespace}:${name}`).digest().readBigInt64BE(0).toString();
}
