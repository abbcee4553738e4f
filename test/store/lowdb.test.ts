import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine } from '../../server/engines/index.ts';
import { storeConformance } from './conformance.ts';

// The embedded engine on a data directory: the lowdb store, opened as a command (no timers).
storeConformance('lowdb', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-conformance-'));
  const engine = await openEngine({ dataDir: dir, role: 'command' });
  const { store, applier } = engine;
  if (applier.kind !== 'serial') throw new Error('the embedded engine applies serially');
  return {
    store,
    async close() {
      // What was written must survive a checkpoint and a reopen.
      await (
        await applier.prepareCheckpoint(1)
      )();
      await engine.close();
      const again = await openEngine({ dataDir: dir, role: 'command' });
      const [before, after] = [(await store.listSites()).length, (await again.store.listSites()).length];
      await again.close();
      if (after !== before) throw new Error('sites lost across a reopen');
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
