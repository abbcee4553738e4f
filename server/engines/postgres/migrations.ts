/**
 * Versioned schema migrations for the PostgreSQL store: `sql/NNN_name.sql`, applied in order,
 * each in its own transaction, recorded in `parley_migrations`. Collectors run them at start
 * (`npm run -s parley -- migrate` runs them alone); an advisory lock makes concurrent starts
 * wait for one another instead of racing. Tables go into the connection's `search_path`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

const SQL_DIR = fileURLToPath(new URL('./sql/', import.meta.url));
const FILE = /^(\d{3})_[a-z0-9_]+\.sql$/;
/** Advisory lock key (two int4s: 'Parl', 'migr') that serializes migrations. */
const LOCK = [0x5061726c, 0x6d696772] as const;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migrations shipped with this version, in order. */
export function migrations(): Migration[] {
  return readdirSync(SQL_DIR)
    .filter((n) => FILE.test(n))
    .sort()
    .map((name) => ({
      version: Number(FILE.exec(name)![1]),
      name,
      sql: readFileSync(SQL_DIR + name, 'utf8'),
    }));
}

/** Applies the migrations the database lacks; returns the names of those applied now. */
export async function migrate(pool: pg.Pool): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [...LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS parley_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM parley_migrations')).rows.map((r) => r.version),
    );
    for (const m of migrations()) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO parley_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(m.name);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', [...LOCK]).catch(() => undefined);
    client.release();
  }
  return applied;
}
