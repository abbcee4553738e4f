/**
 * The one place that picks a storage engine: the collector and every operator command open
 * theirs here. An engine is a folder behind one entry (embedded/, postgres/) whose `open`
 * returns an Engine (engine.ts): the Store the core calls, the intake's log and applier, shared
 * rate-limit counts, close.
 *
 *   routes → intake / core → Store port (core/store.ts) ← engines/embedded, engines/postgres
 */
import { DEFAULTS, type Config } from '../config.ts';
import type { EngineConfig, OpenConfig, Role } from './engine.ts';
import * as embedded from './embedded/index.ts';
import * as postgres from './postgres/index.ts';

export type { Engine, EngineConfig, Role } from './engine.ts';
export { LockedError } from './embedded/index.ts';
export type { Copied } from './postgres/index.ts';

export type AnyEngine = embedded.EmbeddedEngine | postgres.PostgresEngine;

function withDefaults(config: EngineConfig): OpenConfig {
  return { intervalMs: DEFAULTS.checkpointMs, role: 'collector', clock: Date.now, ...config };
}

/** Opens the engine `config` names: PostgreSQL when it has a database URL, else the embedded one. */
export function openEngine(config: EngineConfig): Promise<AnyEngine> {
  const c = withDefaults(config);
  return c.databaseUrl ? postgres.open(c) : embedded.open(c);
}

/** The engine the environment names (PARLEY_STORE, DATABASE_URL, PARLEY_DATA_DIR), for `role`. */
export function engineConfig(config: Config, role: Role): EngineConfig {
  return {
    databaseUrl: config.PARLEY_STORE === 'postgres' ? config.DATABASE_URL : undefined,
    dataDir: config.dataDir,
    intervalMs: config.PARLEY_CHECKPOINT_MS,
    role,
  };
}

/**
 * Brings the schema of the engine `config` names up to date without opening it; returns the
 * migrations applied now. The embedded engine has none (its manifest carries its version).
 */
export function migrateEngine(config: EngineConfig): Promise<string[]> {
  return config.databaseUrl ? postgres.migrateSchema(config.databaseUrl) : Promise.resolve([]);
}

/**
 * Copies an embedded engine's store (checkpointed, opened as a command so no collector runs on
 * it) into an empty PostgreSQL engine: `parley migrate-store --from lowdb --to postgres`.
 */
export function copyStore(from: AnyEngine, to: AnyEngine): Promise<postgres.Copied> {
  if (from.kind !== 'embedded' || from.dump === null || to.kind !== 'postgres')
    throw new Error('only an embedded store on disk can be copied, and only into PostgreSQL');
  return postgres.copyFrom(from.dump(), to);
}
