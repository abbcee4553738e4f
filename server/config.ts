/**
 * Configuration, from environment variables only, validated once at start. Every default is
 * here. A bad value stops the process with one line naming the variable.
 */
import { resolve } from 'node:path';
import { z } from 'zod';

const schema = z.object({
  /** Port to listen on. @default 3000 */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Interface to listen on; set 0.0.0.0 to accept connections from other machines. @default 127.0.0.1 */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** The embedded store and the intake log live here. One process per directory. @default ./data */
  PARLEY_DATA_DIR: z.string().min(1).default('./data'),
  /** The demo site's admin key; generated on first start when unset. */
  PARLEY_DEMO_ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  /** pino log level. @default info */
  PARLEY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Identities acknowledged but not yet applied before new batches get 503. @default 200000 */
  PARLEY_MAX_QUEUE: z.coerce.number().int().min(1000).default(200_000),
  /** How often the store is checkpointed to disk, in ms. @default 5000 */
  PARLEY_CHECKPOINT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
});

export type Config = z.output<typeof schema> & { dataDir: string };

/** Parses the environment; throws an Error whose message is the one line to print. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const r = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`invalid configuration: ${i.path.join('.')}: ${i.message}`);
  }
  return { ...r.data, dataDir: resolve(r.data.PARLEY_DATA_DIR) };
}
