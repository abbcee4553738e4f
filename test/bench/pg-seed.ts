/**
 * Seeds a PostgreSQL schema with N visible users directly in SQL (INSERT ... SELECT
 * generate_series), far faster than applying identities one by one. The rows are what the
 * core would have written for `identity('seed', i)` of payloads.ts at admin rank (see
 * seed.ts): a user (id = userIdFor(site, email)), its external user with the full profile and
 * per-field versions, and its account; columns as engines/postgres/rows.ts derives them. The migrations'
 * row-count triggers see the inserts like any other. Spot-checked against the core's own
 * functions after the insert, so a drift in the id scheme or the row shape fails loudly.
 */
import pg from 'pg';
import { userIdFor } from '../../server/core/identify.ts';
import type { User } from '../../server/core/records.ts';
import { createSite } from '../../server/sites.ts';
import { PostgresStore } from '../../server/engines/postgres/store.ts';
import { externalUserRow, userRow } from '../../server/engines/postgres/rows.ts';
import { ADMIN_KEY } from './proc.ts';

export const PG_SITE = 'demo';

export interface PgSeedResult {
  users: number;
  external_users: number;
  accounts: number;
  /** Users (and the accounts): INSERT and index build, in seconds (in parallel with external users). */
  users_s: number;
  /** External users: the same, in seconds. */
  external_users_s: number;
  /** VACUUM ANALYZE of the three tables, after both loads, in seconds. */
  vacuum_s: number;
  /** Share of the users table's pages marked all-visible (index-only scans skip only those). */
  all_visible: number;
  /** The whole seed, wall clock, in seconds. */
  total_s: number;
  /** Size of users + external_users with their indexes, MB. */
  size_mb: number;
}

/** The seeded identity `i` as payloads.ts builds it, for the spot check. */
const email = (i: number) => `person.seed.${i}@example-${i % 97}.test`;
const name = (i: number) => `Person ${i} of seed`;

/**
 * Times, all ms: user `i` was created at `t0 + i s` (creation order = `pos` order) and last
 * updated at `t0 + n s + perm(i) s`, a permutation of 0..n-1, so that `sort=updated_at`
 * walks a different order from creation.
 */
function times(n: number, now: number) {
  const t0 = now - 2 * n * 1000;
  // 7919 is prime, so i ↦ i·7919 mod n is a permutation unless n is a multiple of it.
  const perm = (i: number) => (i * 7919) % n;
  return { t0, created: (i: number) => t0 + i * 1000, updated: (i: number) => t0 + n * 1000 + perm(i) * 1000 };
}

/**
 * Creates the bench site (admin key ADMIN_KEY) in the schema `url` points at (migrating it
 * first) and fills it with `users` visible users on `accounts` accounts.
 */
export async function seedPostgres(
  url: string,
  o: { users: number; accounts: number; externalUsers?: boolean },
  now = Date.now(),
): Promise<PgSeedResult> {
  const n = o.users;
  const store = await PostgresStore.open(url, { poolSize: 2 });
  try {
    await createSite(
      store,
      { name: 'Bench', origins: ['http://127.0.0.1'], siteKey: PG_SITE, adminKey: ADMIN_KEY },
      now,
    );
  } finally {
    await store.close();
  }
  const t = performance.now();
  const { t0 } = times(n, now);
  // One row per i, computed once: email, name, the user id (userIdFor in SQL) and the times.
  const people = `SELECT i, e.email, 'Person ' || i || ' of seed' AS name,
      'u_' || left(encode(sha256(convert_to($1::text, 'UTF8') || '\\x00'::bytea || convert_to(e.email, 'UTF8')), 'hex'), 20) AS id,
      $3::bigint + i * 1000 AS created, $3::bigint + $2::int::bigint * 1000 + ((i::bigint * 7919) % $2::int) * 1000 AS updated
    FROM generate_series(0, $2::int - 1) AS i
    CROSS JOIN LATERAL (SELECT 'person.seed.' || i || '@example-' || (i % 97) || '.test' AS email) e`;
  // Documents are written as JSON text and cast (2.5× faster than nested jsonb_build_object at
  // 1M rows); every value substituted is generated here and needs no escaping.
  const userDoc = '{"site":"%1$s","id":"%2$s","email":"%3$s","name":"%4$s","created_at":%5$s,"updated_at":%6$s}';
  const v = '[3,%12$s,"%2$s"]'; // the admin-rank version [rank, time, tie-break]
  const euDoc =
    `{"site":"%1$s","external_id":"u-seed-%2$s","user_id":"%3$s","created_at":%4$s,"updated_at":%5$s,"profile":{` +
    `"f":{"email":"%6$s","name":"%7$s","created_at":%8$s,"type":"%9$s","cf_persona":"%10$s","account":"%11$s","app_version":"4.2.0",` +
    `"location":{"country":"DE","region":"BE","city":"Berlin"}},` +
    `"v":{"email":${v},"name":${v},"created_at":${v},"type":${v},"cf_persona":${v},"account":${v},"app_version":${v},"location":${v}}}}`;
  const av = `jsonb_build_array(3, $3::float8, i::text)`;

  // The two big tables load in parallel, each on its own connection (two cores).
  const [users_s, external_users_s] = await Promise.all([
    load(url, 'users', [
      [
        `INSERT INTO accounts (site, key, name_key, mrr_cents, ltv_cents, created_at, doc)
        SELECT $1::text, 'acct-' || i, 'account ' || i, 9950, 149500, $3::float8, jsonb_build_object(
          'site', $1::text, 'key', 'acct-' || i, 'external_id', 'acct-' || i, 'created_at', $3::float8, 'updated_at', $3::float8,
          'profile', jsonb_build_object(
            'f', jsonb_build_object('name', 'Account ' || i, 'plan', 'Team', 'cf_region', 'EU', 'mrr_cents', 9950, 'ltv_cents', 149500, 'created_at', 1364406966),
            'v', jsonb_build_object('name', ${av}, 'plan', ${av}, 'cf_region', ${av}, 'mrr_cents', ${av}, 'ltv_cents', ${av}, 'created_at', ${av})))
        FROM generate_series(0, $2::int - 1) AS i ORDER BY i`,
        [PG_SITE, o.accounts, now],
      ],
      [
        `INSERT INTO users (site, id, email, email_lc, name_key, created_at, updated_at, doc)
        SELECT $1::text, p.id, p.email, lower(p.email), lower(p.name), p.created, p.updated,
          format('${userDoc}', $1::text, p.id, p.email, p.name, p.created, p.updated)::jsonb
        FROM (${people}) p ORDER BY p.i`,
        [PG_SITE, n, t0],
      ],
    ]),
    (o.externalUsers ?? true)
      ? load(url, 'external_users', [
          [
            `INSERT INTO external_users (site, external_id, user_id, account_key, type, name_lc, updated_at, doc)
        SELECT $1::text, 'u-seed-' || p.i, p.id, p.account, p.type, lower(p.name), p.updated,
          format('${euDoc}', $1::text, p.i, p.id, p.created, p.updated, p.email, p.name, 1364406966 + p.i, p.type,
            CASE WHEN p.i % 2 = 0 THEN 'developer' ELSE 'manager' END, p.account, $4::bigint)::jsonb
        FROM (SELECT *, 'acct-' || (i % $5::int) AS account, CASE WHEN i % 3 = 0 THEN 'Owner' ELSE 'Member' END AS type FROM (${people}) q) p
        ORDER BY p.i`,
            [PG_SITE, n, t0, now, o.accounts],
          ],
        ])
      : 0,
  ]);

  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // VACUUM, not only ANALYZE: the listings read page keys by index-only scans, which skip the
    // table only where the visibility map says so, as autovacuum would have set it on tables
    // that lived a while. After both loads: while one load's transaction is open, VACUUM cannot
    // mark the other table's new rows visible to all.
    // A page stays unmarked while another session's snapshot predates its rows (a transaction
    // elsewhere on the server), or when VACUUM cannot lock it: tried again a few times.
    const v0 = performance.now();
    for (const table of ['users', 'external_users', 'accounts']) await c.query(`VACUUM ANALYZE ${table}`);
    const visible = async () => {
      const r = (
        await c.query<{ p: string; v: string }>(
          `SELECT relpages AS p, relallvisible AS v FROM pg_class WHERE oid = 'users'::regclass`,
        )
      ).rows[0];
      return +r.p > 0 ? +(+r.v / +r.p).toFixed(3) : 1;
    };
    let all_visible = await visible();
    for (let i = 0; i < 5 && all_visible < 0.99; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      await c.query('VACUUM ANALYZE users');
      all_visible = await visible();
    }
    const vacuum_s = (performance.now() - v0) / 1000;
    if (all_visible < 0.99)
      process.stderr.write(
        `pg-seed: only ${(all_visible * 100).toFixed(1)}% of users' pages are all-visible after VACUUM: deep pages will read the table too\n`,
      );
    // Spot check against the core's functions: same id, same columns, same document.
    const { created, updated } = times(n, now);
    for (const i of [0, 1, n - 1]) {
      const u: User = {
        site: PG_SITE,
        id: userIdFor(PG_SITE, email(i)),
        email: email(i),
        name: name(i),
        created_at: created(i),
        updated_at: updated(i),
      };
      const row = (
        await c.query(
          'SELECT site, id, email, email_lc, name_key, created_at, updated_at, doc FROM users WHERE site = $1::text AND email = $2',
          [PG_SITE, email(i)],
        )
      ).rows[0];
      const want = userRow(u);
      const got = row && [
        row.site,
        row.id,
        row.email,
        row.email_lc,
        row.name_key,
        row.created_at,
        row.updated_at,
        JSON.stringify(row.doc),
      ];
      if (!got || JSON.stringify(got.slice(0, 7)) !== JSON.stringify(want.slice(0, 7)) || !sameJson(row.doc, u)) {
        throw new Error(
          `pg-seed: user ${i} differs from what the core writes:\n got  ${JSON.stringify(got)}\n want ${JSON.stringify(want)}`,
        );
      }
      if (o.externalUsers ?? true) {
        const eu = (
          await c.query(
            'SELECT site, external_id, user_id, account_key, type, name_lc, updated_at, doc FROM external_users WHERE site = $1::text AND external_id = $2',
            [PG_SITE, `u-seed-${i}`],
          )
        ).rows[0];
        const wantEu = externalUserRow(eu.doc);
        const gotEu = [eu.site, eu.external_id, eu.user_id, eu.account_key, eu.type, eu.name_lc, eu.updated_at];
        if (JSON.stringify(gotEu) !== JSON.stringify(wantEu.slice(0, 7)) || eu.user_id !== u.id) {
          throw new Error(
            `pg-seed: external user ${i} columns differ from its document:\n got  ${JSON.stringify(gotEu)}\n want ${JSON.stringify(wantEu.slice(0, 7))}`,
          );
        }
      }
    }
    const size = await c.query<{ b: string }>(
      `SELECT pg_total_relation_size('users') + pg_total_relation_size('external_users') AS b`,
    );
    const counts = await c.query<{ u: string; e: string; a: string }>(
      'SELECT (SELECT count(*) FROM users) AS u, (SELECT count(*) FROM external_users) AS e, (SELECT count(*) FROM accounts) AS a',
    );
    return {
      users: +counts.rows[0].u,
      external_users: +counts.rows[0].e,
      accounts: +counts.rows[0].a,
      users_s: +users_s.toFixed(1),
      external_users_s: +external_users_s.toFixed(1),
      vacuum_s: +vacuum_s.toFixed(1),
      all_visible,
      total_s: +((performance.now() - t) / 1000).toFixed(1),
      size_mb: Math.round(+size.rows[0].b / 2 ** 20),
    };
  } finally {
    await c.end();
  }
}

/**
 * Loads one table on its own connection: its indexes (constraints included) are dropped, the
 * statements run, and the indexes are built again from their own definitions (several times
 * faster than maintaining them row by row). Returns seconds.
 */
async function load(url: string, table: string, statements: [string, unknown[]][]): Promise<number> {
  const t = performance.now();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('SET synchronous_commit = off');
    await c.query(`SET maintenance_work_mem = '256MB'`);
    const again = await dropIndexes(c, table);
    for (const [sql, params] of statements) await c.query(sql, params);
    for (const sql of again) await c.query(sql);
  } finally {
    await c.end();
  }
  return (performance.now() - t) / 1000;
}

/**
 * Drops every index of `table` (a primary key or unique constraint as a constraint) and
 * returns the statements that make them again, exactly as they were.
 */
async function dropIndexes(c: pg.Client, table: string): Promise<string[]> {
  const r = await c.query<{ tbl: string; idx: string; con: string | null; def: string; condef: string | null }>(
    `
    SELECT t.relname AS tbl, i.relname AS idx, con.conname AS con, pg_get_indexdef(x.indexrelid) AS def, pg_get_constraintdef(con.oid) AS condef
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
    LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid
    WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = $1`,
    [table],
  );
  const again: string[] = [];
  for (const row of r.rows) {
    if (row.con) {
      await c.query(`ALTER TABLE ${quote(row.tbl)} DROP CONSTRAINT ${quote(row.con)}`);
      again.push(`ALTER TABLE ${quote(row.tbl)} ADD CONSTRAINT ${quote(row.con)} ${row.condef}`);
    } else {
      await c.query(`DROP INDEX ${quote(row.idx)}`);
      again.push(row.def);
    }
  }
  return again;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Equal as JSON values, whatever the key order (jsonb stores keys in its own order). */
function sameJson(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(norm)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, norm((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}
