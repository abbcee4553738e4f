/**
 * Opens a collector: its engine (engines/index.ts: the embedded one on a data directory, or
 * PostgreSQL), the intake on it (replay), shared rate limits, pruning, the app. main.ts and the
 * tests both use it, so what the tests run is what production runs.
 */
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import pino, { type Logger } from 'pino';
import { createGeoip } from './http/geoip.ts';
import { createApp } from './app.ts';
import { DEFAULTS } from './config.ts';
import { openEngine } from './engines/index.ts';
import { SharedLimits, type RateLimits } from './http/rate-limit.ts';
import { Intake } from './intake/intake.ts';
import { createSite } from './sites.ts';

export interface CollectorOptions {
  dataDir: string;
  logger?: Logger;
  clock?: () => number;
  /** Identities acknowledged but not applied yet before new batches get 503. @default DEFAULTS.maxQueue */
  maxQueueDepth?: number;
  /** ms between checkpoints (embedded) or looks for a dead collector's work (PostgreSQL). @default DEFAULTS.checkpointMs */
  checkpointMs?: number;
  /** Demo site: its admin key (else generated once and kept in the data directory). */
  demoAdminKey?: string;
  /** Rate limits; see createApp. @default DEFAULTS.rateLimits */
  rateLimits?: RateLimits;
  /** With PostgreSQL: how often the rate limits are synced with the other collectors. @default DEFAULTS.rateLimitSyncMs */
  rateLimitSyncMs?: number;
  /** Express `trust proxy`. @default DEFAULTS.trustProxy */
  trustProxy?: boolean | number | string;
  /** A city mmdb for location lookups (PARLEY_GEOIP_DB); else the shipped country database. */
  geoipDb?: string;
  /** Pending identities not received for this long are deleted. @default DEFAULTS.pendingTtlDays */
  pendingTtlMs?: number;
  /** Pending identities kept per site, the newest first. @default DEFAULTS.pendingMax */
  pendingMax?: number;
  /**
   * PostgreSQL instead of the embedded store: several collectors may share one database
   * (docs/POSTGRES.md); `dataDir` then only keeps the demo admin key. @default embedded lowdb
   */
  databaseUrl?: string;
  /**
   * The engine can no longer apply what it acknowledged (the embedded store worker died).
   * @default log it and exit the process with code 70: a restart replays the durable log
   */
  onFatal?: (err: Error) => void;
}

/** Pending identities are pruned at open and this often after. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

export async function openCollector(o: CollectorOptions) {
  const logger = o.logger ?? pino({ level: 'silent' });
  const clock = o.clock ?? Date.now;
  // The embedded engine locks its data directory (one process each); a database is shared by design.
  const engine = await openEngine({
    databaseUrl: o.databaseUrl,
    dataDir: o.dataDir,
    intervalMs: o.checkpointMs ?? DEFAULTS.checkpointMs,
    clock,
    onFatal:
      o.onFatal ??
      ((err) => {
        // Answering on would acknowledge entries nothing applies; stopping loses nothing, since
        // every acknowledged entry is in the log and the next start applies it (README).
        logger.fatal({ err }, 'the store worker died; stopping');
        process.exit(70);
      }),
  });
  const { store } = engine;
  try {
    const intake = new Intake({
      store,
      log: engine.log,
      applier: engine.applier,
      clock,
      maxQueueDepth: o.maxQueueDepth ?? DEFAULTS.maxQueue,
      onError: (err) => logger.error({ err }, 'apply failed'),
      onWarning: (w) => logger.warn(w, 'custom field values dropped'),
    });
    await intake.open();
    // When several collectors share the engine (and so the traffic), they share the limits' counts.
    const sharedLimits =
      engine.sharedCounts && (o.rateLimits ?? DEFAULTS.rateLimits).enabled
        ? new SharedLimits(engine.sharedCounts, {
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
      geoip: createGeoip({
        cityDb: o.geoipDb,
        onError: (err) => logger.error({ err }, 'the geoip database cannot be read; no locations from addresses'),
      }),
    });

    const ttl = o.pendingTtlMs ?? DEFAULTS.pendingTtlDays * 24 * 60 * 60 * 1000;
    const prune = () =>
      intake
        .write(() => store.prunePending(clock() - ttl, o.pendingMax ?? DEFAULTS.pendingMax))
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
      await engine.close();
    };
    return { store, intake, app, logger, ensureDemoSite, close, prune, sharedLimits };
  } catch (err) {
    await engine.close();
    throw err;
  }
}
