// The PGlite template: clones are migrated and independent, and the on-disk cache is built once and then reused.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPgliteTemplate } from '../../src/ledger/pglite-template.js';
import { newTestLedger } from '../helpers/ledger.js';
import { refund, T0 } from './fixtures.js';

describe('pglite template', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('when two ledgers come from the template, then what one records the other never sees', async () => {
    const [a, b] = await Promise.all([newTestLedger(), newTestLedger()]);
    try {
      await a.recordRefund(refund(), T0);

      expect(await a.getIndexedRefund('re_1')).toEqual(refund());
      expect(await b.getIndexedRefund('re_1')).toBeNull();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('when a template is made twice on one cache directory, then the second reuses the first’s data directory', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledger-template-'));
    await createPgliteTemplate({ cacheDir: dir });
    const [file] = await readdir(dir);
    const built = await stat(join(dir, file!));

    const again = await createPgliteTemplate({ cacheDir: dir });
    const ledger = await again.newLedger();
    try {
      await ledger.recordRefund(refund(), T0);
      expect(await ledger.getIndexedRefund('re_1')).toEqual(refund());
    } finally {
      await ledger.close();
    }

    expect(await readdir(dir)).toEqual([file]);
    expect((await stat(join(dir, file!))).mtimeMs).toBe(built.mtimeMs);
  });
});
