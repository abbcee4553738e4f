/**
 * `parley migrate-store --from lowdb --to postgres`: moves the embedded store in
 * PARLEY_DATA_DIR into the (empty) PostgreSQL database at DATABASE_URL. The collector must be
 * stopped; what its intake log still held is applied and checkpointed first. Prints the
 * number of records copied per collection as one JSON object.
 */
import { loadConfig } from '../config.ts';
import { copyStore, LockedError, openEngine } from '../engines/index.ts';
import { Intake } from '../intake/intake.ts';
import { parse } from './args.ts';

export async function run(args: string[]): Promise<number> {
  const { values } = parse(args, { from: {}, to: {} });
  if (values.from !== 'lowdb' || values.to !== 'postgres')
    throw new Error('usage: migrate-store --from lowdb --to postgres');
  const { dataDir, DATABASE_URL } = loadConfig(process.env);
  if (!DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const from = await openEngine({ dataDir, role: 'command' }).catch((e) => {
    throw e instanceof LockedError ? new Error(`${e.message}; the collector must be stopped for this command`) : e;
  });
  try {
    const to = await openEngine({ databaseUrl: DATABASE_URL, dataDir: null, role: 'command' });
    try {
      // Apply what the intake log still holds and checkpoint, so the files are the whole store.
      const intake = new Intake({ store: from.store, log: from.log, applier: from.applier, maxQueueDepth: Infinity });
      await intake.open();
      await intake.close();
      process.stdout.write(JSON.stringify(await copyStore(from, to)) + '\n');
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
  return 0;
}
