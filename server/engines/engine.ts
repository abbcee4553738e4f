/**
 * What an engine is to the rest of the collector: the one shape both engines' `open` return
 * (embedded/index.ts, postgres/index.ts) and the configuration they open from. Which engine
 * opens is decided in one place, engines/index.ts.
 */
import type { Applier, IntakeLog } from '../core/intake-log.ts';
import type { AddHits } from '../core/rate-counts.ts';
import type { Store } from '../core/store.ts';

/**
 * Who opens the engine: a collector, or a short operator command (`parley sites ...`), which
 * runs no timers, adopts no other collector's work and uses few connections.
 */
export type Role = 'collector' | 'command';

export interface EngineConfig {
  /** PostgreSQL at this URL (docs/POSTGRES.md); absent: the embedded engine in `dataDir`. */
  databaseUrl?: string;
  /** The embedded engine's directory (its store and intake log); null keeps both in memory (tests). */
  dataDir: string | null;
  /**
   * ms between the engine's periodic work: a checkpoint (embedded), a look for entries left by
   * collectors that died (PostgreSQL). @default DEFAULTS.checkpointMs (config.ts)
   */
  intervalMs?: number;
  /** @default 'collector' */
  role?: Role;
  clock?: () => number;
  /**
   * The engine can no longer apply what it acknowledges (the embedded engine's store worker
   * died); the collector stops. @default logs the error
   */
  onFatal?: (err: Error) => void;
}

/** The configuration as an engine's `open` receives it: defaults filled in by engines/index.ts. */
export type OpenConfig = EngineConfig & { intervalMs: number; role: Role; clock: () => number };

/** Everything a collector needs of its storage, opened once. */
export interface Engine {
  kind: 'embedded' | 'postgres';
  /** The Store port (core/store.ts) the core and the routes read and write through. */
  store: Store;
  /** The log the intake appends to before it acknowledges. */
  log: IntakeLog;
  /** How the intake applies logged entries to the store, and the periodic work that goes with it. */
  applier: Applier;
  /** Rate-limit counts shared with the other collectors on this engine, or null: each process counts alone. */
  sharedCounts: AddHits | null;
  /** Closes the log, the store and whatever else the engine holds (its lock, its pool). After the intake closed. */
  close(): Promise<void>;
}
