/**
 * Opens the PostgreSQL engine for a collector: the store (migrated) and the shared intake
 * log. Several collector processes may open it on one database at once (docs/POSTGRES.md).
 */
import { PgIntakeLog } from '../intake/pg-log.ts';
import { PostgresStore } from './postgres.ts';
import type { Store } from './types.ts';

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

/**
 * Runs `fn` on the PostgreSQL store at `databaseUrl`, for the CLI's site commands. Collectors
 * may keep running: they read sites from the database on every request.
 */
export async function withPostgres<T>(databaseUrl: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await PostgresStore.open(databaseUrl, { poolSize: 2 });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
