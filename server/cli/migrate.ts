/**
 * `parley migrate`: applies the PostgreSQL schema migrations (server/engines/postgres/sql/) to
 * DATABASE_URL and prints `{"applied": [...]}`. Collectors also migrate at start; this is for
 * operators who migrate before rolling out a new version.
 */
import { loadConfig } from '../config.ts';
import { migrateEngine } from '../engines/index.ts';

export async function run(_args: string[]): Promise<number> {
  const { DATABASE_URL } = loadConfig(process.env);
  if (!DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const applied = await migrateEngine({ databaseUrl: DATABASE_URL, dataDir: null, role: 'command' });
  process.stdout.write(JSON.stringify({ applied }) + '\n');
  return 0;
}
