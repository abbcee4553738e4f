/**
 * `parley migrate-store --from lowdb --to postgres`: moves the embedded store in
 * PARLEY_DATA_DIR into the (empty) PostgreSQL database at DATABASE_URL. The collector must be
 * stopped; what its intake log still held is applied and checkpointed first. Prints the
 * number of records copied per collection as one JSON object.
 */
import { join } from 'node:path';
import { loadConfig } from '../config.ts';
import { Intake } from '../intake/intake.ts';
import { FileLog } from '../intake/log.ts';
import { acquireLock } from '../lock.ts';
import { LowdbStore } from '../store/lowdb.ts';
import { PostgresStore } from '../store/postgres.ts';
import { copyLowdbToPostgres } from '../store/postgres-copy.ts';
import { parse } from './args.ts';

export async function run(args: string[]): Promise<number> {
  const { values } = parse(args, { from: {}, to: {} });
  if (values.from !== 'lowdb' || values.to !== 'postgres')
    throw new Error('usage: migrate-store --from lowdb --to postgres');
  const { dataDir, DATABASE_URL } = loadConfig(process.env);
  if (!DATABASE_URL) throw new Error('DATABASE_URL is not set');
  let release;
  try {
    release = acquireLock(dataDir);
  } catch (e) {
    throw new Error(`${(e as Error).message}; the collector must be stopped for this command`);
  }
  const pg = await PostgresStore.open(DATABASE_URL, { poolSize: 1 }).catch((e) => {
    release();
    throw e;
  });
  try {
    // Apply what the intake log still holds and checkpoint, so the files are the whole store.
    const store = await LowdbStore.open(join(dataDir, 'store'));
    const intake = new Intake({ store, log: await FileLog.open(join(dataDir, 'intake'), store.appliedSeq()) });
    await intake.open();
    await intake.close();
    const copied = await copyLowdbToPostgres(join(dataDir, 'store'), pg);
    process.stdout.write(JSON.stringify(copied) + '\n');
  } finally {
    await pg.close();
    release();
  }
  return 0;
}
