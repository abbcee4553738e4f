/**
 * The PostgreSQL engine: the store (migrated at open) and the intake log in the database,
 * shared by any number of collector processes (docs/POSTGRES.md). Each entry is applied in
 * its own transaction; rate-limit counts are shared through the database too.
 */
import pg from 'pg';
import type { Engine, OpenConfig } from '../engine.ts';
import { copyLowdbToPostgres, type Copied } from './copy.ts';
import { ENTRY_ITEMS, PgIntakeLog } from './intake-log.ts';
import { migrate } from './migrations.ts';
import { postgresAddHits } from './rate-counts.ts';
import { PostgresStore } from './store.ts';
import type { StoreRecords } from '../../core/store.ts';

export type { Copied } from './copy.ts';

export interface PostgresEngine extends Engine {
  kind: 'postgres';
  store: PostgresStore;
}

/** Connections of an operator command: one held by its log, two for its queries. */
const COMMAND_POOL = 3;

/**
 * Opens the engine on `config.databaseUrl`, migrating the schema first. A collector takes over
 * what collectors that died left in the intake, now and every `intervalMs`; an operator
 * command does neither and applies nothing.
 */
export async function open(config: OpenConfig): Promise<PostgresEngine> {
  const command = config.role === 'command';
  const store = await PostgresStore.open(config.databaseUrl!, command ? { poolSize: COMMAND_POOL } : {});
  try {
    const log = await PgIntakeLog.open(store, { adopt: !command });
    return {
      kind: 'postgres',
      store,
      log,
      applier: {
        kind: 'transactional',
        entryItems: ENTRY_ITEMS,
        apply: (entry, fn) => log.applyEntry(entry, fn),
        adopt: () => log.adopt(),
        sharedDepth: () => log.sharedDepth(),
        adoptMs: command ? 0 : config.intervalMs,
      },
      sharedCounts: postgresAddHits(store.pool),
      close: async () => {
        await log.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** Applies the migrations the database at `databaseUrl` lacks (`parley migrate`); returns their names. */
export async function migrateSchema(databaseUrl: string): Promise<string[]> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    return await migrate(pool);
  } finally {
    await pool.end();
  }
}

/** Copies the embedded store's records into this engine's empty database (copy.ts). */
export function copyFrom(records: StoreRecords, to: PostgresEngine): Promise<Copied> {
  return copyLowdbToPostgres(records, to.store);
}
