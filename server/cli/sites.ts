/**
 * `parley sites create|list|set|rotate-secret|remove-secret`. On the embedded store it opens
 * PARLEY_DATA_DIR directly, so the collector must be stopped (one process per data directory;
 * the lock says so clearly if it is not). With PARLEY_STORE=postgres it works on the database
 * while collectors keep running.
 */
import { join } from 'node:path';
import { loadConfig } from '../config.ts';
import type { Verification } from '../core/records.ts';
import { acquireLock } from '../lock.ts';
import { addIdentitySecret, createSite, publicSite, removeOldIdentitySecret, setVerification } from '../sites.ts';
import { LowdbStore } from '../store/lowdb.ts';
import { withPostgres } from '../store/postgres-engine.ts';
import type { Store } from '../store/types.ts';
import { FileLog } from '../intake/log.ts';
import { Intake } from '../intake/intake.ts';
import { parse } from './args.ts';

const MODES = ['off', 'optional', 'required'];

/**
 * Opens the data directory exclusively, runs `fn` on its store, and checkpoints. With
 * PARLEY_STORE=postgres it runs `fn` on the database instead (collectors may keep running).
 */
export async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const { dataDir, PARLEY_STORE, DATABASE_URL } = loadConfig(process.env);
  if (PARLEY_STORE === 'postgres') return withPostgres(DATABASE_URL!, fn);
  let release;
  try {
    release = acquireLock(dataDir);
  } catch (e) {
    throw new Error(`${(e as Error).message}; the collector must be stopped for this command`);
  }
  try {
    const store = await LowdbStore.open(join(dataDir, 'store'));
    const intake = new Intake({ store, log: await FileLog.open(join(dataDir, 'intake'), store.appliedSeq()) });
    await intake.open(); // apply what a crashed collector left in the log first
    const result = await fn(store);
    await intake.close();
    return result;
  } finally {
    release();
  }
}

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list') {
    const sites = await withStore(async (store) => (await store.listSites()).map(publicSite));
    process.stdout.write(JSON.stringify(sites) + '\n');
    return 0;
  }
  if (sub === 'create') {
    const { values } = parse(rest, { name: {}, origin: { multiple: true }, verification: {} });
    const name = values.name as string | undefined;
    const origins = (values.origin ?? []) as string[];
    if (!name) throw new Error('--name is required');
    if (!origins.length) throw new Error('at least one --origin is required');
    const verification = ((values.verification as string | undefined) ?? 'off') as Verification;
    if (!MODES.includes(verification)) throw new Error(`--verification must be one of ${MODES.join(', ')}`);
    const created = await withStore((store) => createSite(store, { name, origins, verification }));
    process.stdout.write(JSON.stringify(created) + '\n');
    return 0;
  }
  if (sub === 'rotate-secret' || sub === 'remove-secret') {
    const { values } = parse(rest, { site: {} });
    if (!values.site) throw new Error('--site is required');
    const key = values.site as string;
    const out = await withStore<object>((store) =>
      sub === 'rotate-secret' ? addIdentitySecret(store, key) : removeOldIdentitySecret(store, key),
    );
    process.stdout.write(JSON.stringify(out) + '\n');
    return 0;
  }
  if (sub === 'set') {
    const { values } = parse(rest, { site: {}, verification: {} });
    const verification = values.verification as Verification | undefined;
    if (!values.site) throw new Error('--site is required');
    if (!verification || !MODES.includes(verification))
      throw new Error(`--verification must be one of ${MODES.join(', ')}`);
    await withStore((store) => setVerification(store, values.site as string, verification));
    process.stdout.write(JSON.stringify({ site_key: values.site, verification }) + '\n');
    return 0;
  }
  process.stderr.write(
    'usage: parley sites create --name NAME --origin URL [--origin URL ...] [--verification off|optional|required]\n       parley sites list\n       parley sites set --site KEY --verification off|optional|required\n       parley sites rotate-secret --site KEY   (adds a second identity secret)\n       parley sites remove-secret --site KEY   (drops the older one)\n',
  );
  return 2;
}
