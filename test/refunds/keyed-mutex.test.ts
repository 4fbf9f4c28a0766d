// The in-process per-payment lock: one holder per key, FIFO, a bounded wait, and no memory left behind.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/refunds/gateway-error.js';
import { KeyedMutex } from '../../src/refunds/keyed-mutex.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('KeyedMutex', () => {
  it('when three tasks want the same key, then they run one at a time in arrival order', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const task = (name: string) =>
      mutex.run('ch_1', 1_000, async () => {
        log.push(`start ${name}`);
        await tick();
        log.push(`end ${name}`);
      });
    await Promise.all([task('a'), task('b'), task('c')]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('when keys differ, then tasks do not wait for each other', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const task = (key: string) =>
      mutex.run(key, 1_000, async () => {
        log.push(`start ${key}`);
        await tick();
        log.push(`end ${key}`);
      });
    await Promise.all([task('ch_1'), task('ch_2')]);
    expect(log.slice(0, 2)).toEqual(['start ch_1', 'start ch_2']);
  });

  it('when the wait runs out, then payment_busy, and the queue goes on without the one that gave up', async () => {
    const mutex = new KeyedMutex();
    const release = await mutex.acquire('ch_1', 1_000);
    const waiting = mutex.acquire('ch_1', 20);
    await expect(waiting).rejects.toSatisfy((e) => e instanceof GatewayError && e.code === 'payment_busy' && e.retryAfterSeconds === 1);
    const next = mutex.acquire('ch_1', 1_000);
    release();
    (await next)();
    expect(mutex.size).toBe(0);
  });

  it('when a task throws, then the key is released for the next one', async () => {
    const mutex = new KeyedMutex();
    await expect(mutex.run('ch_1', 100, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await mutex.run('ch_1', 100, async () => 'ok')).toBe('ok');
    expect(mutex.size).toBe(0);
  });

  it('when a release is called twice, then the second does nothing', async () => {
    const mutex = new KeyedMutex();
    const first = await mutex.acquire('ch_1', 100);
    const second = mutex.acquire('ch_1', 1_000);
    first();
    const secondRelease = await second;
    first(); // must not release the second holder's turn
    const third = mutex.acquire('ch_1', 20);
    await expect(third).rejects.toBeInstanceOf(GatewayError);
    secondRelease();
  });
});
