// Stripe-shaped ids (`pi_` + 24 letters and digits), random per instance so two emulators never share ids.
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// Random bytes are drawn in blocks: one syscall per few hundred ids keeps id creation off the benchmark's profile.
export function createIdGenerator(): (prefix: string, length?: number) => string {
  let pool = randomBytes(4096);
  let at = 0;
  return (prefix, length = 24) => {
    if (at + length > pool.length) {
      pool = randomBytes(4096);
      at = 0;
    }
    let out = prefix + '_';
    for (let i = 0; i < length; i += 1) out += ALPHABET[(pool[at + i] ?? 0) % ALPHABET.length];
    at += length;
    return out;
  };
}

export type IdGenerator = ReturnType<typeof createIdGenerator>;
