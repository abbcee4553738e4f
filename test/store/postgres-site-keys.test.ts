/**
 * The schema stays distributable by site (docs/POSTGRES.md#past-one-database-server): in the
 * migrated schema's catalog, every table's primary key and every unique index lead with its
 * `site` column, so each row, each uniqueness check and each applied entry's writes live on
 * the node that holds that site. The tables that are not per site are listed here, each with
 * where it would live; a new table has to join one group or the other.
 */
import { describe, expect, it } from 'vitest';
import { suiteSchema, DATABASE_URL } from './pg-schema.ts';
import { migrateSchema } from '../../server/engines/postgres/index.ts';

/** The column that names the site, where it is not called `site`. */
const SITE_COLUMN: Record<string, string> = { sites: 'key' };

/** Tables with no site in their key, and why (docs/POSTGRES.md#past-one-database-server). */
const NOT_BY_SITE: Record<string, string> = {
  sites: 'reference table: a few rows, read by every request on every node',
  rate_limit_salt: 'reference table: one row',
  parley_migrations: 'coordinator: the schema version',
  rate_limits: 'coordinator: keyed by client address or admin key, across sites',
  intake: 'coordinator: the shared intake queue, one row per acknowledged batch',
  intake_failed: 'coordinator: entries set aside for the operator',
};

describe.skipIf(!DATABASE_URL)('the schema, distributed by site', () => {
  const pgs = suiteSchema();

  it('leads every primary key and unique index with the site, except the tables listed', async () => {
    await migrateSchema(pgs.schema.url);
    const { rows } = await pgs.db.query<{ tbl: string; idx: string; primary: boolean; first: string }>(
      `SELECT c.relname AS tbl, i.relname AS idx, x.indisprimary AS primary, a.attname AS first
       FROM pg_index x
       JOIN pg_class c ON c.oid = x.indrelid
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[0]
       WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND (x.indisunique OR x.indisprimary)`,
    );
    const tables = (
      await pgs.db.query<{ tbl: string }>(
        `SELECT relname AS tbl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`,
      )
    ).rows.map((r) => r.tbl);
    expect(tables).toContain('users');
    // Every table has a primary key...
    for (const t of tables)
      expect(
        rows.some((r) => r.tbl === t && r.primary),
        `${t} has a primary key`,
      ).toBe(true);
    // ...and, unless listed, every unique key of it starts with the site.
    const wrong = rows
      .filter((r) => !(r.tbl in NOT_BY_SITE) || SITE_COLUMN[r.tbl])
      .filter((r) => r.first !== (SITE_COLUMN[r.tbl] ?? 'site'))
      .map((r) => `${r.tbl}.${r.idx} leads with ${r.first ?? 'an expression'}`);
    expect(wrong).toEqual([]);
    // The list names only tables that exist, so it cannot hide a renamed one.
    for (const t of Object.keys(NOT_BY_SITE)) expect(tables, t).toContain(t);
    // Per-site tables are checked above; these are among them.
    const perSite = tables.filter((t) => !(t in NOT_BY_SITE));
    for (const t of ['users', 'external_users', 'accounts', 'pending', 'feedback', 'messages', 'row_counts'])
      expect(perSite).toContain(t);
  });
});
