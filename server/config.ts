/**
 * Configuration, from environment variables only, validated once at start. Every default is
 * here. A bad value stops the process with one line naming the variable.
 */
import { resolve } from 'node:path';
import { z } from 'zod';

const schema = z.object({
  /** Port to listen on. @default 3000 */
  PORT: z.coerce.number({ error: 'must be a port number (0-65535)' }).int().min(0).max(65535).default(3000),
  /** Interface to listen on; set 0.0.0.0 to accept connections from other machines. @default 127.0.0.1 */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** The embedded store and the intake log live here. One process per directory. @default ./data */
  PARLEY_DATA_DIR: z.string().min(1).default('./data'),
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
  PARLEY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Identities acknowledged but not yet applied before new batches get 503. @default 200000 */
  PARLEY_MAX_QUEUE: z.coerce.number().int().min(1000).default(200_000),
  /**
   * How often the store is checkpointed to disk, in ms. Durability does not depend on it (the
   * intake log is fsync'd before every 202); it bounds the log's size and the replay after a
   * crash, and each checkpoint costs acknowledgement latency (docs/PERFORMANCE.md). @default 30000
   */
  PARLEY_CHECKPOINT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** `off` turns every rate limit off (for benchmarks). @default on */
  PARLEY_RATE_LIMIT: z.enum(['on', 'off']).default('on'),
  /** Public (widget) requests per minute from one client address. @default 120 */
  PARLEY_RATE_LIMIT_ADDRESS: z.coerce.number().int().min(1).default(120),
  /** Public requests per minute to one site key, all addresses together. @default 6000 */
  PARLEY_RATE_LIMIT_SITE: z.coerce.number().int().min(1).default(6000),
  /** Admin requests per minute per admin key, and per client address. @default 600 */
  PARLEY_RATE_LIMIT_ADMIN: z.coerce.number().int().min(1).default(600),
  /**
   * With PARLEY_STORE=postgres: milliseconds between two syncs of a collector's rate limit
   * counts with the others' (docs/POSTGRES.md). The limits hold across collectors to within
   * the traffic of one interval. @default 1000
   */
  PARLEY_RATE_LIMIT_SYNC_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /**
   * Express `trust proxy`: `off`, `true` (any proxy: only behind one that overwrites
   * X-Forwarded-For), a hop count, or comma-separated proxy addresses/subnets. Rate limits key
   * on the address this yields. @default off
   */
  PARLEY_TRUST_PROXY: z
    .string()
    .default('off')
    .transform((v): boolean | number | string =>
      v === 'off' || v === 'false' ? false : v === 'true' ? true : /^\d+$/.test(v) ? Number(v) : v,
    ),
  /** Days a pending identity (someone who never gave feedback) is kept. @default 30 */
  PARLEY_PENDING_TTL_DAYS: z.coerce.number().min(1).max(3650).default(30),
  /** Pending identities kept per site; the oldest go first. @default 1000000 */
  PARLEY_PENDING_MAX: z.coerce.number().int().min(1000).default(1_000_000),
  /** Milliseconds a client may take to send a whole request. @default 30000 */
  PARLEY_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  /** Milliseconds a client may take to send the request headers. @default 10000 */
  PARLEY_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(10_000),
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
