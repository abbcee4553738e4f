/**
 * Row counts on PostgreSQL (sql/003_row_counts.sql): totals come from appended deltas instead
 * of counting rows, so they must equal count(*) after any mix of inserts, upserts that update,
 * deletes and bulk statements, and folding the deltas (by one collector or two at once, while
 * writes go on) must never change them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/core/records.ts';
import { PostgresStore } from '../../server/engines/postgres/store.ts';
import { createSchema, DATABASE_URL, type TestSchema } from './pg-schema.ts';

const user = (site: string, id: string): User => ({ site, id, email: `${id}@x.test`, created_at: 1, updated_at: 1 });

describe.skipIf(!DATABASE_URL)('PostgreSQL row counts', () => {
  let schema: TestSchema;
  let a: PostgresStore;
  let b: PostgresStore;
  beforeAll(async () => {
    schema = await createSchema();
    a = await PostgresStore.open(schema.url, { poolSize: 4, compactCountsMs: 0 });
    b = await PostgresStore.open(schema.url, { poolSize: 4, compactCountsMs: 0 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await schema?.drop();
  });

  const exact = async (site: string) =>
    Number((await a.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE site = $1', [site])).rows[0].n);
  const deltas = async () => Number((await a.query<{ n: string }>('SELECT count(*) AS n FROM row_counts')).rows[0].n);

  it('follow inserts, updating upserts, deletes and bulk statements, per site', async () => {
    for (let i = 0; i < 20; i++) await a.putUser(user('s1', `u${i}`));
    for (let i = 0; i < 20; i++) await a.putUser({ ...user('s1', `u${i}`), name: 'again' });
    for (let i = 0; i < 5; i++) await a.deleteUser('s1', `u${i}`);
    await a.deleteUser('s1', 'nobody');
    await a.query(`INSERT INTO users (site, id, email, email_lc, name_key, created_at, updated_at, doc)
      SELECT 's2', 'b' || g, 'b' || g || '@x.test', 'b' || g || '@x.test', '', 1, 1, '{}' FROM generate_series(1, 300) g`);
    await a.query(`DELETE FROM users WHERE site = 's2' AND id LIKE 'b1%'`);
    for (const site of ['s1', 's2']) expect((await a.counts(site)).users).toBe(await exact(site));
    expect((await a.counts('s1')).users).toBe(15);
    expect((await a.listUsers('s2', { page: 1, perPage: 5 })).total).toBe(await exact('s2'));
  });

  it('are unchanged by folding the deltas, even by two collectors at once while writes go on', async () => {
    const before = [(await a.counts('s1')).users, (await a.counts('s2')).users];
    const writes = (async () => {
      for (let i = 100; i < 160; i++) {
        await b.putUser(user('s1', `u${i}`));
        if (i % 3 === 0) await a.deleteUser('s1', `u${i - 1}`);
      }
    })();
    await Promise.all([writes, ...Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).compactCounts())]);
    await Promise.all([a.compactCounts(), b.compactCounts()]);
    await a.compactCounts();
    for (const site of ['s1', 's2']) expect((await a.counts(site)).users).toBe(await exact(site));
    expect((await a.counts('s2')).users).toBe(before[1]);
    // Folded: one row per (site, table) that has rows.
    expect(await deltas()).toBe(2);
  });

  it('are reset with the table by TRUNCATE', async () => {
    await a.query('TRUNCATE users');
    expect((await a.counts('s1')).users).toBe(0);
    await a.putUser(user('s1', 'fresh'));
    expect((await a.counts('s1')).users).toBe(1);
  });
});
