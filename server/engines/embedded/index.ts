/**
 * The embedded engine: one process owns a data directory holding the lowdb store (`store/`)
 * and the intake log (`intake/`), under a lock file (README, Limits of the embedded store).
 * Entries are applied serially and the store is checkpointed so that the log can be trimmed.
 *
 * In a collector the store lives on a worker thread (worker.ts) that applies, checkpoints and
 * prunes, while the request thread keeps the log (durable before the answer) and answers; an
 * operator command, short and alone, keeps the store on its own thread. Without a data
 * directory it is the memory store and a log that keeps nothing (tests).
 */
import { join } from 'node:path';
import type { DelegatedApplier, SerialApplier } from '../../core/intake-log.ts';
import type { Engine, OpenConfig } from '../engine.ts';
import { encoded, FileLog } from './file-log.ts';
import { acquireLock } from './lock.ts';
import { LowdbStore } from './lowdb-store.ts';
import { MemoryLog } from './memory-log.ts';
import { MemoryStore } from './memory-store.ts';
import type { StoreRecords } from '../../core/store.ts';
import { StoreWorker } from './worker-store.ts';

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
    if (config.role === 'collector') return await withWorker(config, storeDir, release);
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

/**
 * The collector's engine: the store on a worker thread (worker.ts). If the worker dies, nothing
 * acknowledged is lost (every entry it was handed is durable in the log here), but what it had
 * applied since its last checkpoint is gone with it, so the collector stops: `config.onFatal`
 * (the collector exits non-zero, and the next start replays the log beyond the checkpoint).
 */
async function withWorker(config: OpenConfig, storeDir: string, release: () => void): Promise<EmbeddedEngine> {
  const onFatal = config.onFatal ?? ((err: Error) => console.error(err));
  let log: FileLog | null = null;
  const worker = await StoreWorker.start(storeDir, config.clock(), (err) => onFatal(err));
  try {
    log = await FileLog.open(join(config.dataDir!, 'intake'), worker.appliedSeq);
  } catch (err) {
    await worker.close();
    throw err;
  }
  const fileLog = log;
  const applier: DelegatedApplier = {
    kind: 'delegated',
    appliedSeq: () => worker.appliedSeq,
    apply: (entries, now, first) =>
      worker.apply(
        entries.map((e) => e.seq),
        entries.map((e) => encoded.get(e) ?? JSON.stringify(e)),
        now,
        first,
      ),
    onWarning: (report) => {
      worker.onWarning = report;
    },
    checkpoint: async (now) => {
      // Rotate first, so the segments before the rotation can be dropped once the worker's
      // checkpoint covers them; entries after it stay in the new segment.
      await fileLog.rotate();
      fileLog.dropThrough(await worker.checkpoint(now));
    },
    checkpointMs: config.intervalMs,
    checkpointEvery: CHECKPOINT_EVERY,
  };
  return {
    kind: 'embedded',
    dump: null,
    store: worker.store,
    log: fileLog,
    applier,
    sharedCounts: null,
    close: async () => {
      await fileLog.close();
      await worker.close();
      release();
    },
  };
}
