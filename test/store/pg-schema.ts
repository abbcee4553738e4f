/**
 * A fresh PostgreSQL schema per test file, so test files run in parallel on one database:
 * `DATABASE_URL` with its `search_path` pointing at `parley_test_<random>`, dropped afterwards.
 * Without `DATABASE_URL` the PostgreSQL tests are skipped, loudly.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

export const DATABASE_URL = process.env.DATABASE_URL;

if (!DATABASE_URL) {
  console.warn(
    '\n*** DATABASE_URL is not set: the PostgreSQL tests are SKIPPED. .ci/run sets it when a server is reachable. ***\n',
  );
}

export interface TestSchema {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty schema and returns a URL whose connections use it. */
export async function createSchema(): Promise<TestSchema> {
  const name = `parley_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${name}`);
  await admin.end();
  const url = new URL(DATABASE_URL!);
  url.searchParams.set('options', `-c search_path=${name}`);
  return {
    name,
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${name} CASCADE`);
      await c.end();
    },
  };
}

/**
 * For the enclosing describe: a fresh schema and a client connected to it, made before its
 * tests and dropped after them (after the describe's own afterAll hooks, which run first).
 */
export function suiteSchema(): { readonly schema: TestSchema; readonly db: pg.Client } {
  const ctx = {} as { schema: TestSchema; db: pg.Client };
  beforeAll(async () => {
    ctx.schema = await createSchema();
    ctx.db = new pg.Client({ connectionString: ctx.schema.url });
    await ctx.db.connect();
  });
  afterAll(async () => {
    await ctx.db?.end();
    await ctx.schema?.drop();
  });
  return ctx;
}
