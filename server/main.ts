/**
 * The collector process: the only place that reads the environment, listens and handles
 * signals. Everything else is built by openCollector/createApp.
 */
import pino from 'pino';
import { loadConfig } from './config.ts';
import { openCollector } from './collector.ts';
import { createHttpServer } from './http/server.ts';

function fail(message: string): never {
  process.stderr.write(`parley: ${message}\n`);
  process.exit(1);
}

let config;
try {
  config = loadConfig(process.env);
} catch (e) {
  fail((e as Error).message);
}

const logger = pino({ level: config.PARLEY_LOG_LEVEL });
let collector: Awaited<ReturnType<typeof openCollector>>;
try {
  collector = await openCollector({
    dataDir: config.dataDir,
    logger,
    maxQueueDepth: config.PARLEY_MAX_QUEUE,
    checkpointMs: config.PARLEY_CHECKPOINT_MS,
    demoAdminKey: config.PARLEY_DEMO_ADMIN_KEY,
    rateLimits: {
      enabled: config.PARLEY_RATE_LIMIT === 'on',
      addressPerMinute: config.PARLEY_RATE_LIMIT_ADDRESS,
      sitePerMinute: config.PARLEY_RATE_LIMIT_SITE,
      adminPerMinute: config.PARLEY_RATE_LIMIT_ADMIN,
    },
    rateLimitSyncMs: config.PARLEY_RATE_LIMIT_SYNC_MS,
    trustProxy: config.PARLEY_TRUST_PROXY,
    geoipDb: config.PARLEY_GEOIP_DB,
    pendingTtlMs: config.PARLEY_PENDING_TTL_DAYS * 24 * 60 * 60 * 1000,
    pendingMax: config.PARLEY_PENDING_MAX,
    databaseUrl: config.PARLEY_STORE === 'postgres' ? config.DATABASE_URL : undefined,
  });
} catch (e) {
  fail((e as Error).message);
}

const http = createHttpServer(collector.app, {
  requestTimeoutMs: config.PARLEY_REQUEST_TIMEOUT_MS,
  headersTimeoutMs: config.PARLEY_HEADERS_TIMEOUT_MS,
});
const server = http.server.listen(config.PORT, config.HOST);
server.on('error', (e) => fail(`cannot listen on ${config.HOST}:${config.PORT}: ${e.message}`));
server.on('listening', async () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
  const adminKey = await collector.ensureDemoSite([`http://localhost:${port}`, `http://127.0.0.1:${port}`]);
  const base = `http://localhost:${port}`;
  process.stdout.write(
    `Parley collector listening on ${base}\n` +
      `  demo page:      ${base}/demo/\n` +
      `  admin console:  ${base}/admin/\n` +
      `  demo admin key: ${adminKey ?? '(set PARLEY_DEMO_ADMIN_KEY; the generated one was not kept)'}\n` +
      `  data directory: ${config.dataDir}\n`,
  );
});

/** Requests in flight at a stop get this long to finish before their connections are cut. */
const REQUEST_GRACE_MS = 5000;
/** The whole stop, final checkpoint included; past it the process leaves (the log replays). */
const SHUTDOWN_TIMEOUT_MS = 30_000;

let stopping = false;
/**
 * Stops cleanly (README "Stopping"): refuse new requests, finish the ones in flight, apply what
 * was acknowledged, write the final checkpoint, release the data directory, exit 0.
 */
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  setTimeout(() => {
    logger.error('shutdown timed out');
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS).unref();
  await http.drain(REQUEST_GRACE_MS);
  logger.info('requests finished; applying what was acknowledged');
  await collector.close();
  logger.info('final checkpoint written; stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
