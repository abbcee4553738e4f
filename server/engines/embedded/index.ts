/**
 * The embedded engine: one process owns a data directory holding the lowdb store (`store/`)
 * and the intake log (`intake/`), under a lock file (README, Limits of the embedded store).
 * Entries are applied serially and the store is checkpointed so that the log can be trimmed.
 * Without a data directory it is the memory store and a log that keeps nothing (tests).
 */
import { join } from 'node:path';
import type { SerialApplier } from '../../core/intake-log.ts';
import type { Engine, OpenConfig } from '../engine.ts';
import { FileLog } from './file-log.ts';
import { acquireLock } from './lock.ts';
import { LowdbStore } from './lowdb-store.ts';
import { MemoryLog } from './memory-log.ts';
import { MemoryStore } from './memory-store.ts';
import type { StoreRecords } from '../../core/store.ts';

export { LockedError } from './lock.ts';

/** Besides the timer, a checkpoint after this many applied entries bounds the replay after a crash. */
const CHECKPOINT_EVERY = 5000;

export interface EmbeddedEngine extends Engine {
  kind: 'embedded';
  /** Every record on disk, in creation order (migrate-store copies them), or null in memory. */
  dump: (() => StoreRecords) | null;
}

/** Serial application with checkpoints of `store` that trim `log` (core/intake-log.ts). */
function serial(
  store: MemoryStore,
  log: MemoryLog | FileLog,
  checkpointMs: number,
  checkpointEvery: number,
): SerialApplier {
  return {
    kind: 'serial',
    appliedSeq: () => store.appliedSeq(),
    prepareCheckpoint: (seq) => store.prepareCheckpoint(seq),
    rotateLog: () => log.rotate(),
    dropLogThrough: (seq) => log.dropThrough(seq),
    checkpointMs,
    checkpointEvery,
  };
}

/**
 * Opens the engine on `config.dataDir`: takes the directory's lock (LockedError when another
 * live process holds it), loads the store, opens the log after the store's checkpoint. An
 * operator command checkpoints only when it closes its intake.
 */
export async function open(config: OpenConfig): Promise<EmbeddedEngine> {
  if (config.dataDir === null) {
    const store = new MemoryStore();
    const log = new MemoryLog();
    // Memory is the whole store: a checkpoint writes nothing, so none is scheduled.
    return {
      kind: 'embedded',
      dump: null,
      store,
      log,
      applier: serial(store, log, 0, 0),
      sharedCounts: null,
      close: async () => {},
    };
  }
  const release = acquireLock(config.dataDir);
  try {
    const storeDir = join(config.dataDir, 'store');
    const store = await LowdbStore.open(storeDir, config.clock);
    const log = await FileLog.open(join(config.dataDir, 'intake'), store.appliedSeq());
    const command = config.role === 'command';
    return {
      kind: 'embedded',
      dump: () => store.dump(),
      store,
      log,
      applier: serial(store, log, command ? 0 : config.intervalMs, command ? 0 : CHECKPOINT_EVERY),
      sharedCounts: null,
      close: async () => {
        await log.close();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}
