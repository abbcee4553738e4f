/**
 * Set-based apply on PostgreSQL (server/engines/postgres/write-behind.ts): an identify entry
 * costs the same round trips whatever its size, and ends in exactly the rows that applying
 * its identities one statement at a time gives — the core's merge decides, only the writing
 * changed.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identitySchema } from '../../shared/identity.ts';
import { applyIdentity, type IdentifyItem } from '../../server/core/identify.ts';
import { RANK } from '../../server/core/merge.ts';
import type { Store } from '../../server/core/store.ts';
import { PgIntakeLog } from '../../server/engines/postgres/intake-log.ts';
import { PostgresStore, READ_AHEAD } from '../../server/engines/postgres/store.ts';
import { createSchema, DATABASE_URL, type TestSchema } from './pg-schema.ts';

const SITE = 'demo';
const NOW = 1_700_000_000_000;

const item = (
  id: string,
  email: string,
  at: number,
  mid: string,
  extra: Record<string, unknown> = {},
): IdentifyItem => ({
  message_id: mid,
  version: [RANK.unproven, at, mid],
  identity: identitySchema.parse({ id, email, name: `${id} at ${at}`, ...extra }),
});

/** Every row of the tables an identify writes, in creation order, as the database holds them. */
async function dump(store: PostgresStore) {
  const out: Record<string, unknown[]> = {};
  for (const [t, key] of [
    ['users', 'id'],
    ['external_users', 'external_id'],
    ['accounts', 'key'],
    ['pending', 'external_id'],
    ['pending_accounts', 'key'],
  ])
    out[t] = (
      await store.query(`SELECT ${key} AS k, doc FROM ${t} ORDER BY ${t === 'pending_accounts' ? 'key' : 'pos'}`)
    ).rows;
  out.messages = (await store.query('SELECT message_id, at FROM messages ORDER BY message_id')).rows;
  out.counts = [await store.counts(SITE)];
  return out;
}

/** Counts the statements every pg client of this process sends while `fn` runs. */
async function statementsOf(fn: () => Promise<unknown>): Promise<number> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const query = proto.query;
  let n = 0;
  proto.query = function (this: unknown, ...a: unknown[]) {
    n++;
    return query.apply(this, a);
  };
  try {
    await fn();
  } finally {
    proto.query = query;
  }
  return n;
}

describe.skipIf(!DATABASE_URL)('set-based apply on PostgreSQL', () => {
  let setSchema: TestSchema;
  let rowSchema: TestSchema;
  let set: PostgresStore;
  let row: PostgresStore;
  let log: PgIntakeLog;
  beforeAll(async () => {
    [setSchema, rowSchema] = await Promise.all([createSchema(), createSchema()]);
    set = await PostgresStore.open(setSchema.url, { poolSize: 3, compactCountsMs: 0 });
    row = await PostgresStore.open(rowSchema.url, { poolSize: 3, compactCountsMs: 0 });
    log = await PgIntakeLog.open(set, { adopt: false });
  });
  afterAll(async () => {
    await log?.close();
    await set?.close();
    await row?.close();
    await setSchema?.drop();
    await rowSchema?.drop();
  });

  /** Logs an identify entry and applies it as the intake does, in its own transaction. */
  const applyEntry = async (items: IdentifyItem[]) => {
    const entry = await log.append({ op: 'identify', site: SITE, items });
    return log.applyEntry(entry, async (tx: Store) => {
      for (const i of items) await applyIdentity(tx, SITE, i, NOW);
      return 'applied';
    });
  };

  it('ends in the same rows as applying one statement at a time', async () => {
    // Before the entry, in both databases: a visible person, a pending one with an account
    // held pending, and a visible account.
    const before = async (s: PostgresStore) => {
      await s.putUser({ site: SITE, id: 'u1', email: 'known@x.test', created_at: 1, updated_at: 1 });
      await applyIdentity(s, SITE, item('p1', 'p1@x.test', 5, 'b1', { account: { id: 'held', mrr_cents: 7 } }), NOW);
      await applyIdentity(
        s,
        SITE,
        item('v1', 'known@x.test', 5, 'b2', { account: { id: 'shared', mrr_cents: 1 } }),
        NOW,
      );
    };
    await before(set);
    await before(row);
    await row.putUser({ site: SITE, id: 'u2', email: 'p1@x.test', created_at: 2, updated_at: 2 });
    await set.putUser({ site: SITE, id: 'u2', email: 'p1@x.test', created_at: 2, updated_at: 2 });
    const items: IdentifyItem[] = [
      // Attaches to the visible user by email.
      item('n1', 'known@x.test', 10, 'e1', { account: { id: 'shared', mrr_cents: 20 } }),
      // New people: pending, one account held pending for both, updated out of order.
      item('n2', 'n2@x.test', 10, 'e2', { account: { id: 'new', mrr_cents: 30 } }),
      item('n3', 'n3@x.test', 12, 'e3', { account: { id: 'new', mrr_cents: 31 } }),
      item('n2', 'n2@x.test', 9, 'e4', { name: 'older' }),
      item('n2', 'n2@x.test', 11, 'e5', { name: 'newer' }),
      // A duplicate of a message id in the same entry, and of one applied before.
      item('n3', 'n3@x.test', 99, 'e3', { name: 'duplicate' }),
      item('v1', 'known@x.test', 99, 'b2', { name: 'duplicate' }),
      // The pending p1 becomes visible (its email now belongs to u2) and absorbs the account it
      // held pending, a key this entry never names (read from the database, not ahead).
      item('p1', 'p1@x.test', 10, 'e6'),
      // An existing account updated by a pending person; an older version loses.
      item('n4', 'n4@x.test', 13, 'e7', { account: { id: 'shared', mrr_cents: 40 } }),
      item('n5', 'n5@x.test', 3, 'e8', { account: { id: 'shared', mrr_cents: 2 } }),
    ];
    expect(await applyEntry(items)).toBe('applied');
    for (const i of items) await applyIdentity(row, SITE, i, NOW);
    const got = await dump(set);
    expect(got).toEqual(await dump(row));
    // What the merge decided, not only that both agree.
    const pend = new Map((got.pending as { k: string; doc: any }[]).map((r) => [r.k, r.doc]));
    expect(pend.get('n2').profile.f.name).toBe('newer');
    expect(pend.get('n3').profile.f.name).toBe('n3 at 12');
    expect(pend.has('p1')).toBe(false);
    const accounts = new Map((got.accounts as { k: string; doc: any }[]).map((r) => [r.k, r.doc]));
    expect(accounts.get('shared').profile.f.mrr_cents).toBe(40);
    expect(accounts.get('held').profile.f.mrr_cents).toBe(7);
    expect((got.pending_accounts as { k: string }[]).map((r) => r.k)).toEqual(['new']);
    expect(got.counts).toEqual([
      { users: 2, pending_identities: 4, external_users: 3, external_accounts: 2, feedback: 0 },
    ]);
  });

  it('applies an entry of 250 people with as many statements as an entry of 5', async () => {
    const people = (tag: string, n: number) =>
      Array.from({ length: n }, (_, i) =>
        item(`${tag}${i}`, `${tag}${i}@x.test`, 20, `${tag}-${i}`, { account: { id: `${tag}-a${i % 7}` } }),
      );
    const small = people('s', 5);
    const large = people('l', 250);
    const before = (await set.counts(SITE)).pending_identities;
    const n5 = await statementsOf(() => applyEntry(small));
    const n250 = await statementsOf(() => applyEntry(large));
    // The append (one INSERT) is inside the count too; the apply is: locks + BEGIN, the entry's
    // row deleted, read-ahead, one write, COMMIT + unlock.
    expect(n250).toBe(n5);
    expect(n250).toBeLessThanOrEqual(6);
    expect((await set.counts(SITE)).pending_identities).toBe(before + 255);
  });

  it('reads ahead by key, never by scanning the site, even before the table has statistics', async () => {
    // A fresh schema with thousands of rows of one site and no ANALYZE yet: the state in which
    // `site = $1 AND key = ANY(…)` was planned as a scan of the whole site (docs/PERFORMANCE.md#postgresql).
    const s = await createSchema();
    const db = new pg.Client({ connectionString: s.url });
    try {
      await PostgresStore.open(s.url, { compactCountsMs: 0 }).then((st) => st.close());
      await db.connect();
      await db.query(`INSERT INTO sites (key, admin_key_hash, doc) VALUES ($1, 'h', '{}')`, [SITE]);
      for (const [t, cols] of [
        ['messages', `(site, message_id, at) SELECT $1, 'm' || g, 1`],
        ['pending', `(site, external_id, email, received_at, doc) SELECT $1, 'p' || g, 'p' || g || '@x', 1, '{}'`],
        [
          'external_users',
          `(site, external_id, user_id, name_lc, updated_at, doc) SELECT $1, 'p' || g, 'u' || g, '', 1, '{}'`,
        ],
        [
          'users',
          `(site, id, email, email_lc, name_key, created_at, updated_at, doc) SELECT $1, 'u' || g, 'p' || g || '@x', '', '', 1, 1, '{}'`,
        ],
        [
          'accounts',
          `(site, key, name_key, mrr_cents, ltv_cents, created_at, doc) SELECT $1, 'a' || g, '', 0, 0, 1, '{}'`,
        ],
        ['pending_accounts', `(site, key, updated_at, doc) SELECT $1, 'a' || g, 1, '{}'`],
      ])
        await db.query(`INSERT INTO ${t} ${cols} FROM generate_series(1, 5000) g`, [SITE]);
      const keys = (p: string) => Array.from({ length: 250 }, (_, i) => `${p}${i * 7}`);
      const plan = (
        await db.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${READ_AHEAD}`, [
          SITE,
          keys('m'),
          keys('p'),
          keys('p').map((k) => `${k}@x`),
          keys('a'),
        ])
      ).rows[0]['QUERY PLAN'][0].Plan;
      const scans: { type: string; rel: string; read: number }[] = [];
      const walk = (n: any) => {
        if (n['Relation Name'])
          scans.push({
            type: n['Node Type'],
            rel: n['Relation Name'],
            read: n['Actual Rows'] * n['Actual Loops'] + (n['Rows Removed by Filter'] ?? 0) * n['Actual Loops'],
          });
        for (const c of n.Plans ?? []) walk(c);
      };
      walk(plan);
      expect(scans.map((x) => x.rel).sort()).toEqual(
        ['accounts', 'external_users', 'messages', 'pending', 'pending_accounts', 'sites', 'users'].sort(),
      );
      for (const x of scans) {
        expect(x.type, x.rel).toMatch(/^Index (Only )?Scan$/);
        // At most the rows asked for (each key found or not), never the site's 5,000.
        expect(x.read, x.rel).toBeLessThanOrEqual(250);
      }
    } finally {
      await db.end();
      await s.drop();
    }
  });
});
