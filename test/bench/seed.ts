/**
 * Builds a data directory directly in a LowdbStore, without HTTP: the demo site, `users`
 * visible users (each with one external user and an account) and `pending` pending
 * identities, through the same core code the collector applies identities with.
 */
import { join } from 'node:path';
import { applyIdentity, newUser } from '../../server/core/identify.ts';
import { RANK } from '../../server/core/merge.ts';
import { createSite } from '../../server/sites.ts';
import { LowdbStore } from '../../server/engines/embedded/lowdb-store.ts';
import { fastIdentity } from '../../shared/identity-fast.ts';
import { identity } from './payloads.ts';
import { ADMIN_KEY } from './proc.ts';

export const SITE = 'demo';

/** The normalized identity of seeded person `i` (visible ones are tagged `seed`). */
export function seedIdentity(tag: string, i: number) {
  return fastIdentity(identity(tag, i))!;
}

/** Opens (or creates) the store of a collector data directory and fills it. */
export async function seedStore(
  dataDir: string,
  o: { users: number; pending: number },
  now = Date.now(),
  origins = ['http://127.0.0.1'],
): Promise<LowdbStore> {
  const store = await LowdbStore.open(join(dataDir, 'store'));
  await createSite(store, { name: 'Bench', origins, siteKey: SITE, adminKey: ADMIN_KEY }, now);
  for (let i = 0; i < o.users; i++) {
    const id = seedIdentity('seed', i);
    // A known email makes the identity attach to a visible user at once (docs/API.md#identify-semantics).
    await store.putUser(newUser(SITE, id.email, id.name, now));
    await applyIdentity(
      store,
      SITE,
      { message_id: `seed-${i}`, version: [RANK.admin, now, String(i)], identity: id },
      now,
    );
  }
  for (let i = 0; i < o.pending; i++) {
    await applyIdentity(
      store,
      SITE,
      { message_id: `pend-${i}`, version: [RANK.admin, now, String(i)], identity: seedIdentity('pend', i) },
      now,
    );
  }
  return store;
}

/** Writes a checkpoint of everything changed; returns its duration in ms. */
export async function checkpoint(store: LowdbStore, seq = 0): Promise<number> {
  const t = performance.now();
  const write = await store.prepareCheckpoint(seq);
  await write();
  return performance.now() - t;
}
