/**
 * Configuration, from environment variables only, validated once at start. A bad value stops
 * the process with one line naming the variable. Every default is in DEFAULTS: the variables
 * below, openCollector and createApp all default from it, so no default is written twice.
 */
import { resolve } from 'node:path';
import { z } from 'zod';

/** The collector's defaults (each documented with its variable below). */
export const DEFAULTS = {
  /** @default 3000 */
  port: 3000,
  /** @default 127.0.0.1 */
  host: '127.0.0.1',
  /** @default ./data */
  dataDir: './data',
  /** @default info */
  logLevel: 'info',
  /** Identities acknowledged but not applied yet before new batches get 503. @default 200000 */
  maxQueue: 200_000,
  /** ms between checkpoints (embedded) or looks for a dead collector's work (PostgreSQL). @default 30000 */
  checkpointMs: 30_000,
  /** Requests per minute: public per address and per site key, admin per key and per address. */
  rateLimits: {
    /** @default true */
    enabled: true,
    /** @default 120 */
    addressPerMinute: 120,
    /** @default 6000 */
    sitePerMinute: 6000,
    /** @default 600 */
    adminPerMinute: 600,
  },
  /** ms between two syncs of a collector's rate limit counts with the others'. @default 1000 */
  rateLimitSyncMs: 1000,
  /** Express `trust proxy`. @default false */
  trustProxy: false as boolean | number | string,
  /** Days a pending identity is kept. @default 30 */
  pendingTtlDays: 30,
  /** Pending identities kept per site. @default 1000000 */
  pendingMax: 1_000_000,
  /** ms to send a whole request. @default 30000 */
  requestTimeoutMs: 30_000,
  /** ms to send the request headers. @default 10000 */
  headersTimeoutMs: 10_000,
} as const;

const schema = z.object({
  /** Port to listen on. @default 3000 */
  PORT: z.coerce.number({ error: 'must be a port number (0-65535)' }).int().min(0).max(65535).default(DEFAULTS.port),
  /** Interface to listen on; set 0.0.0.0 to accept connections from other machines. @default 127.0.0.1 */
  HOST: z.string().min(1).default(DEFAULTS.host),
  /** The embedded store and the intake log live here. One process per directory. @default ./data */
  PARLEY_DATA_DIR: z.string().min(1).default(DEFAULTS.dataDir),
  /** The demo site's admin key; generated on first start when unset. */
  PARLEY_DEMO_ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Where data lives: the embedded `lowdb` store, or `postgres` (needs DATABASE_URL; docs/POSTGRES.md). @default lowdb */
  PARLEY_STORE: z.enum(['lowdb', 'postgres']).default('lowdb'),
  /** PostgreSQL connection URL, used when PARLEY_STORE=postgres. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /** pino log level. @default info */
  PARLEY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(DEFAULTS.logLevel),
  /** Identities acknowledged but not yet applied before new batches get 503. @default 200000 */
  PARLEY_MAX_QUEUE: z.coerce.number().int().min(1000).default(DEFAULTS.maxQueue),
  /**
   * How often the store is checkpointed to disk, in ms. Durability does not depend on it (the
   * intake log is fsync'd before every 202); it bounds the log's size and the replay after a
   * crash, and each checkpoint costs acknowledgement latency (docs/PERFORMANCE.md). @default 30000
   */
  PARLEY_CHECKPOINT_MS: z.coerce.number().int().min(100).max(600_000).default(DEFAULTS.checkpointMs),
  /** `off` turns every rate limit off (for benchmarks). @default on */
  PARLEY_RATE_LIMIT: z.enum(['on', 'off']).default(DEFAULTS.rateLimits.enabled ? 'on' : 'off'),
  /** Public (widget) requests per minute from one client address. @default 120 */
  PARLEY_RATE_LIMIT_ADDRESS: z.coerce.number().int().min(1).default(DEFAULTS.rateLimits.addressPerMinute),
  /** Public requests per minute to one site key, all addresses together. @default 6000 */
  PARLEY_RATE_LIMIT_SITE: z.coerce.number().int().min(1).default(DEFAULTS.rateLimits.sitePerMinute),
  /** Admin requests per minute per admin key, and per client address. @default 600 */
  PARLEY_RATE_LIMIT_ADMIN: z.coerce.number().int().min(1).default(DEFAULTS.rateLimits.adminPerMinute),
  /**
   * With PARLEY_STORE=postgres: milliseconds between two syncs of a collector's rate limit
   * counts with the others' (docs/POSTGRES.md). The limits hold across collectors to within
   * the traffic of one interval. @default 1000
   */
  PARLEY_RATE_LIMIT_SYNC_MS: z.coerce.number().int().min(10).max(60_000).default(DEFAULTS.rateLimitSyncMs),
  /**
   * Express `trust proxy`: `off`, `true` (any proxy: only behind one that overwrites
   * X-Forwarded-For), a hop count, or comma-separated proxy addresses/subnets. Rate limits key
   * on the address this yields. @default off
   */
  PARLEY_TRUST_PROXY: z
    .string()
    .optional()
    .transform((v): boolean | number | string =>
      v === undefined
        ? DEFAULTS.trustProxy
        : v === 'off' || v === 'false'
          ? false
          : v === 'true'
            ? true
            : /^\d+$/.test(v)
              ? Number(v)
              : v,
    ),
  /**
   * An mmdb city database (MaxMind GeoLite2/GeoIP2 City, say) for location from the request
   * address; without it the country database shipped in node_modules is used (README "Location").
   */
  PARLEY_GEOIP_DB: z.string().min(1).optional(),
  /** Days a pending identity (someone who never gave feedback) is kept. @default 30 */
  PARLEY_PENDING_TTL_DAYS: z.coerce.number().min(1).max(3650).default(DEFAULTS.pendingTtlDays),
  /** Pending identities kept per site; the oldest go first. @default 1000000 */
  PARLEY_PENDING_MAX: z.coerce.number().int().min(1000).default(DEFAULTS.pendingMax),
  /** Milliseconds a client may take to send a whole request. @default 30000 */
  PARLEY_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(DEFAULTS.requestTimeoutMs),
  /** Milliseconds a client may take to send the request headers. @default 10000 */
  PARLEY_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(DEFAULTS.headersTimeoutMs),
});

export type Config = z.output<typeof schema> & { dataDir: string };

/** Parses the environment; throws an Error whose message is the one line to print. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const r = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`invalid configuration: ${i.path.join('.')}: ${i.message}`);
  }
  if (r.data.PARLEY_STORE === 'postgres' && !r.data.DATABASE_URL)
    throw new Error('invalid configuration: DATABASE_URL: must be set when PARLEY_STORE=postgres');
  return { ...r.data, dataDir: resolve(r.data.PARLEY_DATA_DIR) };
}
