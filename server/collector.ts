/**
 * Opens a collector on a data directory: lock, store, intake log, replay, app. main.ts and the
 * tests both use it, so what the tests run is what production runs.
 */
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import pino, { type Logger } from 'pino';
import { createApp } from './app.ts';
import { DEFAULT_RATE_LIMITS, SharedLimits, type RateLimits } from './http/rate-limit.ts';
import { Intake } from './intake/intake.ts';
import { FileLog } from './intake/log.ts';
import { acquireLock } from './lock.ts';
import { createSite } from './sites.ts';
import { LowdbStore } from './store/lowdb.ts';
import { openPostgres } from './store/postgres-engine.ts';
import { PostgresStore } from './store/postgres.ts';
import { postgresAddHits } from './store/postgres-rate-limit.ts';

export interface CollectorOptions {
  dataDir: string;
  logger?: Logger;
  clock?: () => number;
  maxQueueDepth?: number;
  checkpointMs?: number;
  /** Demo site: its admin key (else generated once and kept in the data directory). */
  demoAdminKey?: string;
  /** Rate limits; see createApp. */
  rateLimits?: RateLimits;
  /** With PostgreSQL: how often the rate limits are synced with the other collectors. @default 1000 */
  rateLimitSyncMs?: number;
  /** Express `trust proxy`. @default false */
  trustProxy?: boolean | number | string;
  /** Pending identities not received for this long are deleted. @default 30 days */
  pendingTtlMs?: number;
  /** Pending identities kept per site, the newest first. @default 1000000 */
  pendingMax?: number;
  /**
   * PostgreSQL instead of the embedded store: several collectors may share one database
   * (docs/POSTGRES.md); `dataDir` then only keeps the demo admin key. @default embedded lowdb
   */
  databaseUrl?: string;
}

async function openEmbedded(dataDir: string, clock: () => number) {
  const store = await LowdbStore.open(join(dataDir, 'store'), clock);
  const log = await FileLog.open(join(dataDir, 'intake'), store.appliedSeq());
  return { store, log, closeStore: async () => {} };
}

/** Pending identities are pruned at open and this often after. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

export async function openCollector(o: CollectorOptions) {
  const logger = o.logger ?? pino({ level: 'silent' });
  const clock = o.clock ?? Date.now;
  // One process per data directory; a database is shared by design.
  const release = o.databaseUrl ? () => {} : acquireLock(o.dataDir);
  try {
    const { store, log, closeStore } = o.databaseUrl
      ? await openPostgres(o.databaseUrl)
      : await openEmbedded(o.dataDir, clock);
    const intake = new Intake({
      store,
      log,
      clock,
      maxQueueDepth: o.maxQueueDepth,
      checkpointMs: o.checkpointMs ?? 30_000,
      checkpointEvery: 5000,
      onError: (err) => logger.error({ err }, 'apply failed'),
      onWarning: (w) => logger.warn(w, 'custom field values dropped'),
    });
    await intake.open();
    // On PostgreSQL several collectors may share the traffic, so they share the limits' counts.
    const sharedLimits =
      store instanceof PostgresStore && (o.rateLimits ?? DEFAULT_RATE_LIMITS).enabled
        ? new SharedLimits(postgresAddHits(store.pool), {
            clock,
            intervalMs: o.rateLimitSyncMs,
            onFailure: (err) =>
              logger.error(
                { err },
                'rate limit sync failed; counting in this collector only until the database answers',
              ),
            onRecovery: () => logger.info('rate limit sync works again'),
          })
        : undefined;
    sharedLimits?.start();
    const app = createApp({
      store,
      intake,
      clock,
      logger,
      rateLimits: o.rateLimits,
      sharedLimits,
      trustProxy: o.trustProxy,
    });

    const ttl = o.pendingTtlMs ?? 30 * 24 * 60 * 60 * 1000;
    const prune = () =>
      intake
        .write(() => store.prunePending(clock() - ttl, o.pendingMax ?? 1_000_000))
        .then((n) => {
          if (n > 0) logger.info({ pruned: n }, 'pending identities pruned');
        })
        .catch((err) => logger.error({ err }, 'pruning pending identities failed'));
    await prune();
    const pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
    pruneTimer.unref();

    /** Creates the demo site on first start of an empty store; returns its admin key. */
    const ensureDemoSite = async (origins: string[]): Promise<string | null> => {
      const keyFile = join(o.dataDir, 'demo-admin-key.txt');
      if ((await store.listSites()).length > 0) {
        return o.demoAdminKey ?? (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : null);
      }
      const created = await createSite(
        store,
        { name: 'Demo', origins, siteKey: 'demo', adminKey: o.demoAdminKey },
        clock(),
      );
      // The demo's key is kept in clear so every start can print it; real sites' keys are not.
      if (!o.demoAdminKey) writeFileSync(keyFile, created.admin_key + '\n', { mode: 0o600 });
      await intake.checkpoint();
      return created.admin_key;
    };

    const close = async (server?: Server) => {
      clearInterval(pruneTimer);
      if (server) await new Promise<void>((r) => server.close(() => r()));
      await sharedLimits?.close();
      await intake.close();
      await closeStore();
      release();
    };
    return { store, intake, app, logger, ensureDemoSite, close, prune, sharedLimits };
  } catch (err) {
    release();
    throw err;
  }
}
