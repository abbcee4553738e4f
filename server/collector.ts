/**
 * Opens a collector on a data directory: lock, store, intake log, replay, app. main.ts and the
 * tests both use it, so what the tests run is what production runs.
 */
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import pino, { type Logger } from 'pino';
import { createApp } from './app.ts';
import { Intake } from './intake/intake.ts';
import { FileLog } from './intake/log.ts';
import { acquireLock } from './lock.ts';
import { createSite } from './sites.ts';
import { LowdbStore } from './store/lowdb.ts';

export interface CollectorOptions {
  dataDir: string;
  logger?: Logger;
  clock?: () => number;
  maxQueueDepth?: number;
  checkpointMs?: number;
  /** Demo site: its admin key (else generated once and kept in the data directory). */
  demoAdminKey?: string;
}

export async function openCollector(o: CollectorOptions) {
  const logger = o.logger ?? pino({ level: 'silent' });
  const clock = o.clock ?? Date.now;
  const release = acquireLock(o.dataDir);
  try {
    const store = await LowdbStore.open(join(o.dataDir, 'store'), clock);
    const log = await FileLog.open(join(o.dataDir, 'intake'), store.appliedSeq());
    const intake = new Intake({
      store, log, clock,
      maxQueueDepth: o.maxQueueDepth,
      checkpointMs: o.checkpointMs ?? 5000,
      checkpointEvery: 5000,
      onError: (err) => logger.error({ err }, 'apply failed'),
      onWarning: (w) => logger.warn(w, 'custom field values dropped'),
    });
    await intake.open();
    const app = createApp({ store, intake, clock, logger });

    /** Creates the demo site on first start of an empty store; returns its admin key. */
    const ensureDemoSite = async (origins: string[]): Promise<string | null> => {
      const keyFile = join(o.dataDir, 'demo-admin-key.txt');
      if ((await store.listSites()).length > 0) {
        return o.demoAdminKey ?? (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : null);
      }
      const created = await createSite(store, { name: 'Demo', origins, siteKey: 'demo', adminKey: o.demoAdminKey }, clock());
      // The demo's key is kept in clear so every start can print it; real sites' keys are not.
      if (!o.demoAdminKey) writeFileSync(keyFile, created.admin_key + '\n', { mode: 0o600 });
      await intake.checkpoint();
      return created.admin_key;
    };

    const close = async (server?: Server) => {
      if (server) await new Promise<void>((r) => server.close(() => r()));
      await intake.close();
      release();
    };
    return { store, intake, app, logger, ensureDemoSite, close };
  } catch (err) {
    release();
    throw err;
  }
}
