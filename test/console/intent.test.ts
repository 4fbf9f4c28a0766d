// One Idempotency-Key per intent, and one request at a time per action: the two guards against refunding twice.
import { describe, expect, it } from 'vitest';
import { canonicalJson, IntentKeys, newIdempotencyKey, SingleFlight } from '../../console/src/intent.js';

describe('idempotency keys', () => {
  it('when a key is made, then it is one the gateway accepts (1–255 printable ASCII) and never the same twice', () => {
    const keys = new Set(Array.from({ length: 200 }, () => newIdempotencyKey()));
    expect(keys.size).toBe(200);
    for (const key of keys) expect(key).toMatch(/^console-[0-9a-f]{32}$/);
  });

  it('when the same request is sent again from one dialog, even spelled in another key order, then it carries the same key', () => {
    const intent = new IntentKeys();
    const first = intent.keyFor({ payment_intent: 'pi_1', amount: 2500, metadata: { a: '1', b: '2' } });
    expect(intent.keyFor({ metadata: { b: '2', a: '1' }, amount: 2500, payment_intent: 'pi_1' })).toBe(first);
  });

  it('when the request changes (another amount), then it is another intent with another key', () => {
    const intent = new IntentKeys();
    expect(intent.keyFor({ payment_intent: 'pi_1', amount: 2500 })).not.toBe(intent.keyFor({ payment_intent: 'pi_1', amount: 2600 }));
  });

  it('when the same request comes from a new dialog, then it is a new intent with a new key', () => {
    expect(new IntentKeys().keyFor({ charge: 'ch_1' })).not.toBe(new IntentKeys().keyFor({ charge: 'ch_1' }));
  });

  it('when an amount is omitted, then it is not the same request as an explicit one (as the gateway fingerprints it)', () => {
    expect(canonicalJson({ charge: 'ch_1', amount: undefined })).toBe('{"charge":"ch_1"}');
    expect(canonicalJson({ charge: 'ch_1', amount: 100 })).not.toBe(canonicalJson({ charge: 'ch_1' }));
  });
});

describe('SingleFlight', () => {
  it('when an action is started twice before it ends (a double click), then it runs once and both get its answer', async () => {
    const flight = new SingleFlight<number>();
    let runs = 0;
    let release!: (n: number) => void;
    const action = () => {
      runs += 1;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const first = flight.run(action);
    const second = flight.run(action);
    expect(flight.busy).toBe(true);
    release(7);
    expect(await Promise.all([first, second])).toEqual([7, 7]);
    expect(runs).toBe(1);
    expect(flight.busy).toBe(false);
  });

  it('when the action has ended, failed or not, then the next start runs it again', async () => {
    const flight = new SingleFlight<string>();
    await expect(flight.run(() => Promise.reject(new Error('503')))).rejects.toThrow('503');
    await expect(flight.run(() => Promise.resolve('again'))).resolves.toBe('again');
  });
});
