import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LowdbStore } from '../../server/store/lowdb.ts';
import { storeConformance } from './conformance.ts';

storeConformance('lowdb', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-conformance-'));
  const store = await LowdbStore.open(dir);
  return {
    store,
    async close() {
      // What was written must survive a checkpoint and a reopen.
      await (
        await store.prepareCheckpoint(1)
      )();
      const again = await LowdbStore.open(dir);
      if ((await again.listSites()).length !== (await store.listSites()).length)
        throw new Error('sites lost across a reopen');
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
