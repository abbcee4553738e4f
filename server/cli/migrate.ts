/**
 * `parley migrate`: applies the PostgreSQL schema migrations (server/store/sql/) to
 * DATABASE_URL and prints `{"applied": [...]}`. Collectors also migrate at start; this is for
 * operators who migrate before rolling out a new version.
 */
import pg from 'pg';
import { loadConfig } from '../config.ts';
import { migrate } from '../store/postgres-migrate.ts';

export async function run(_args: string[]): Promise<number> {
  const { DATABASE_URL } = loadConfig(process.env);
  if (!DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    process.stdout.write(JSON.stringify({ applied: await migrate(pool) }) + '\n');
  } finally {
    await pool.end();
  }
  return 0;
}
