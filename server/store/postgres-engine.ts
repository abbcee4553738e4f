/**
 * Opens the PostgreSQL engine for a collector: the store (migrated) and the shared intake
 * log. Several collector processes may open it on one database at once (docs/POSTGRES.md).
 */
import { PgIntakeLog } from '../intake/pg-log.ts';
import { PostgresStore } from './postgres.ts';

export async function openPostgres(databaseUrl: string) {
  const store = await PostgresStore.open(databaseUrl);
  try {
    const log = await PgIntakeLog.open(store);
    return { store, log, closeStore: () => store.close() };
  } catch (err) {
    await store.close();
    throw err;
  }
}
