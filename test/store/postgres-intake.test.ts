/**
 * The PostgreSQL intake (server/engines/postgres/intake-log.ts) with two "processes" (two pools, two
 * owners) on one schema: group commit, exactly-once application when both race for the same
 * entries, per-field ordering under concurrency, adoption of a dead owner's rows, and
 * entries that cannot be applied set aside.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identitySchema } from '../../shared/identity.ts';
import { accountsOf, applyIdentity, newUser, type IdentifyItem } from '../../server/core/identify.ts';
import { RANK } from '../../server/core/merge.ts';
import { DEFAULTS } from '../../server/config.ts';
import type { LogEntry } from '../../server/core/intake-log.ts';
import type { Store } from '../../server/core/store.ts';
import { openEngine } from '../../server/engines/index.ts';
import {
  ENTRY_ITEMS,
  MAX_KEYS,
  PgIntakeLog,
  keysOf,
  locksOf,
  widen,
} from '../../server/engines/postgres/intake-log.ts';
import { LockGuard, MissingLocks, rowKey } from '../../server/engines/postgres/lock-keys.ts';
import { lockId } from '../../server/engines/postgres/transactions.ts';
import { PostgresStore } from '../../server/engines/postgres/store.ts';
import { Intake } from '../../server/intake/intake.ts';
import { createSchema, DATABASE_URL, type TestSchema } from './pg-schema.ts';

const SITE = 'demo';

describe.skipIf(!DATABASE_URL)('the PostgreSQL intake shared by two processes', () => {
  let schema: TestSchema;
  let one: PostgresStore;
  let two: PostgresStore;
  beforeAll(async () => {
    schema = await createSchema();
    one = await PostgresStore.open(schema.url, { poolSize: 4 });
    two = await PostgresStore.open(schema.url, { poolSize: 4 });
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await schema?.drop();
  });

  const item = (id: string, name: string, at: number, message_id: string): IdentifyItem => ({
    message_id,
    version: [RANK.unproven, at, message_id],
    identity: identitySchema.parse({ id, email: `${id}@x.test`, name, account: { id: 'shared', mrr_cents: at } }),
  });
  /** What the intake does with an identify entry, on the store the log hands it. */
  const applying = (entry: LogEntry) => async (store: Store) => {
    for (const i of entry.items as IdentifyItem[]) await applyIdentity(store, SITE, i, 1);
    return 'applied';
  };

  it('locks the people an entry touches, or its whole site for admin writes and huge batches', () => {
    const entry = { seq: 1, op: 'identify', site: SITE, items: [item('a', 'A', 1, 'm1')] };
    expect(locksOf(entry)).toEqual({
      shared: [`site\0${SITE}`],
      exclusive: [`id\0${SITE}\0a`, `email\0${SITE}\0a@x.test`, `account\0${SITE}\0shared`],
    });
    expect(locksOf({ seq: 2, op: 'erase_user', site: SITE, user_id: 'u' })).toEqual({
      shared: [],
      exclusive: [`site\0${SITE}`],
    });
    // Two keys per person (the account is shared): past MAX_KEYS from MAX_KEYS / 2 + 1 people.
    const people = MAX_KEYS / 2 + 1;
    const big = { ...entry, items: Array.from({ length: people }, (_, i) => item(`p${i}`, 'P', 1, `b${i}`)) };
    expect(locksOf(big).exclusive).toEqual([`site\0${SITE}`]);
  });

  it('applies each entry once and keeps the newest value of every field when both race', async () => {
    const logA = await PgIntakeLog.open(one);
    const logB = await PgIntakeLog.open(two);
    // 5 people, 12 updates each, appended through both logs at once (group commit).
    const appended = await Promise.all(
      Array.from({ length: 60 }, (_, n) => {
        const person = `r${n % 5}`;
        const at = 1000 + n;
        return (n % 2 ? logA : logB).append({
          op: 'identify',
          site: SITE,
          items: [item(person, `name-${at}`, at, `race-${n}`)],
        });
      }),
    );
    expect(new Set(appended.map((e) => e.seq)).size).toBe(60);
    // The queue both processes share: either one counts every identity not applied yet.
    await logA.append({ op: 'erase_user', site: SITE, user_id: 'nobody' });
    expect([await logA.sharedDepth(), await logB.sharedDepth()]).toEqual([60, 60]);
    await one.query(`DELETE FROM intake WHERE entry->>'op' = 'erase_user'`);
    // Both processes try to apply every entry, in opposite orders: each is applied by one.
    const applied: string[] = [];
    await Promise.all([
      (async () => {
        for (const e of appended) applied.push(`${await logA.applyEntry(e, applying(e))}`);
      })(),
      (async () => {
        for (const e of [...appended].reverse()) applied.push(`${await logB.applyEntry(e, applying(e))}`);
      })(),
    ]);
    expect(applied.filter((r) => r === 'applied')).toHaveLength(60);
    expect(applied.filter((r) => r === 'undefined')).toHaveLength(60);
    expect(Number((await one.query('SELECT count(*) AS n FROM intake')).rows[0].n)).toBe(0);
    expect(await logB.sharedDepth()).toBe(0);
    expect(
      Number((await one.query(`SELECT count(*) AS n FROM messages WHERE message_id LIKE 'race-%'`)).rows[0].n),
    ).toBe(60);
    for (let p = 0; p < 5; p++) {
      const pending = await one.getPending(SITE, `r${p}`);
      const newest = 1000 + 55 + p;
      expect(pending!.profile.f.name).toBe(`name-${newest}`);
    }
    expect((await one.getPendingAccount(SITE, 'shared'))!.profile.f.mrr_cents).toBe(1059);
    await logA.close();
    await logB.close();
  }, 60_000); // 120 racing transactions on five people: conflicts retry with backoff, slow on a loaded machine

  it('hands the rows of an owner that is gone to another, and only then', async () => {
    const dead = await PgIntakeLog.open(one);
    const live = await PgIntakeLog.open(two);
    const e1 = await dead.append({ op: 'identify', site: SITE, items: [item('o1', 'O', 1, 'orphan-1')] });
    const e2 = await dead.append({ op: 'identify', site: SITE, items: [item('o2', 'O', 1, 'orphan-2')] });
    expect(await live.adopt()).toEqual([]);
    await dead.close(); // its advisory lock goes, as when a process dies
    const adopted = await live.adopt();
    expect(adopted.map((e) => e.seq)).toEqual([e1.seq, e2.seq]);
    expect(adopted[0].items).toEqual(e1.items);
    expect(await live.adopt()).toEqual([]);
    const next = await PgIntakeLog.open(one);
    expect(next.replay()).toEqual([]); // already adopted by a live owner
    for (const e of adopted) await live.applyEntry(e, applying(e));
    expect(await one.getPending(SITE, 'o2')).toBeDefined();
    await live.close();
    await next.close();
  });

  it('sets aside an entry that cannot be applied, and keeps the others of its group', async () => {
    const log = await PgIntakeLog.open(one);
    const [good, bad] = await Promise.all([
      log.append({ op: 'identify', site: SITE, items: [item('g1', 'G', 1, 'good-1')] }),
      log.append({ op: 'identify', site: SITE, items: [item('g2', 'G', 1, 'bad-1')] }),
    ]);
    await log.applyEntry(good, applying(good));
    await expect(
      log.applyEntry(bad, async () => {
        throw new Error('no such thing');
      }),
    ).rejects.toThrow('no such thing');
    const failed = (await one.query<{ id: string; error: string }>('SELECT id, error FROM intake_failed')).rows;
    expect(failed).toEqual([{ id: String(bad.seq), error: 'no such thing' }]);
    expect(Number((await one.query('SELECT count(*) AS n FROM intake')).rows[0].n)).toBe(0);
    expect(await one.getPending(SITE, 'g1')).toBeDefined();
    await log.close();
  });

  it('keeps an entry whose transaction could not commit, and hands it back at the next adopt', async () => {
    const log = await PgIntakeLog.open(one);
    const entry = await log.append({ op: 'identify', site: SITE, items: [item('h1', 'H', 1, 'handback-1')] });
    // The database cannot take it right now (as when it is unreachable): nothing is set aside.
    const down = Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
    await expect(
      log.applyEntry(entry, async () => {
        throw down;
      }),
    ).rejects.toThrow('terminated');
    expect((await one.query('SELECT 1 FROM intake_failed WHERE id = $1', [entry.seq])).rowCount).toBe(0);
    // Still down when the timer adopts: the entry waits for the next time, not lost.
    const query = one.query;
    one.query = (() => Promise.reject(down)) as typeof one.query;
    await expect(log.adopt()).rejects.toThrow('terminated');
    one.query = query;
    const again = await log.adopt();
    expect(again.map((e) => e.seq)).toEqual([entry.seq]);
    expect(await log.adopt()).toEqual([]);
    expect(await log.applyEntry(again[0], applying(again[0]))).toBe('applied');
    expect(await one.getPending(SITE, 'h1')).toBeDefined();
    await log.close();
  });

  it('splits a large identify batch into entries that lock people, not the site, and applies them all', async () => {
    // A collector's engine, opened where every engine is: its applier splits batches.
    const engine = await openEngine({ databaseUrl: schema.url, dataDir: null });
    const { store, log, applier } = engine;
    const intake = new Intake({ store, log, applier, maxQueueDepth: DEFAULTS.maxQueue });
    expect(applier.kind).toBe('transactional');
    await intake.open();
    const seq = async () =>
      Number((await one.query<{ v: string }>('SELECT last_value AS v FROM intake_id_seq')).rows[0].v);
    const before = await seq();
    const items = Array.from({ length: 2 * ENTRY_ITEMS + 5 }, (_, i) => item(`big${i}`, 'B', 1, `big-${i}`));
    await intake.identify(SITE, items);
    expect(await seq()).toBe(before + 3);
    await intake.drained();
    for (let i = 0; i < items.length; i++) expect(await one.getPending(SITE, `big${i}`), `big${i}`).toBeDefined();
    expect(await intake.sharedDepth()).toBe(0);
    // Each entry names at most 3 keys per person (id, email, account): under the site-wide limit.
    expect(locksOf({ seq: 1, op: 'identify', site: SITE, items: items.slice(0, ENTRY_ITEMS) }).shared).toEqual([
      `site\0${SITE}`,
    ]);
    await intake.close();
    await engine.close();
  });

  it("runs an entry again holding the lock of a row it touched without it (a pending identity's earlier account)", async () => {
    const log = await PgIntakeLog.open(one);
    const mk = (account: string, mid: string, at: number): IdentifyItem => ({
      message_id: mid,
      version: [RANK.unproven, at, mid],
      identity: identitySchema.parse({ id: 'gk', email: 'gk@x.test', name: 'G', account: { id: account } }),
    });
    const oldKey = accountsOf(mk('gk-old', 'x', 0).identity)[0].key;
    // Pending, naming gk-old; then their email becomes a visible user. The next identity
    // attaches to that user and makes every account the pending identity named visible:
    // gk-old too, which the entry does not name, so its lock was not taken up front.
    await applyIdentity(one, SITE, mk('gk-old', 'gk-1', 1), 1);
    await one.putUser(newUser(SITE, 'gk@x.test', 'G', 1));
    const entry = await log.append({ op: 'identify', site: SITE, items: [mk('gk-new', 'gk-2', 2)] });
    // Another transaction holds gk-old's lock: the entry must wait for it (under REPEATABLE
    // READ, without the lock, both could write on what they read before the other's write).
    const holder = await one.pool.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [lockId(rowKey('account', SITE, oldKey))]);
    let done = false;
    const applied = log.applyEntry(entry, applying(entry)).finally(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 700));
    expect(done).toBe(false);
    await holder.query('SELECT pg_advisory_unlock_all()');
    holder.release();
    expect(await applied).toBe('applied');
    expect(await one.getAccount(SITE, oldKey)).toBeDefined();
    expect(await one.getPendingAccount(SITE, oldKey)).toBeUndefined();
    await log.close();
  });

  it('widens a lock set by what was missing, and to the whole site past its limit or a few rounds', () => {
    const locks = { shared: [`site\0${SITE}`], exclusive: [rowKey('id', SITE, 'a')] };
    expect(widen(SITE, locks, [rowKey('account', SITE, 'b')], 1)).toEqual({
      shared: [`site\0${SITE}`],
      exclusive: [rowKey('id', SITE, 'a'), rowKey('account', SITE, 'b')],
    });
    const site = { shared: [], exclusive: [`site\0${SITE}`] };
    expect(widen(SITE, locks, [`site\0${SITE}`], 1)).toEqual(site);
    expect(widen(SITE, locks, [rowKey('account', SITE, 'b')], 4)).toEqual(site);
    const many = Array.from({ length: MAX_KEYS }, (_, i) => rowKey('email', SITE, `e${i}`));
    expect(widen(SITE, locks, many, 1)).toEqual(site);
    // The guard: held keys pass (a key may hold a \0), others and scans are missing.
    const guard = new LockGuard([rowKey('id', SITE, 'a\0b'), rowKey('account', SITE, 'k')]);
    guard.check('id', SITE, 'a\0b');
    guard.check('account', SITE, 'k');
    expect(() => guard.assert()).not.toThrow();
    guard.check('email', SITE, 'k');
    guard.checkSite(SITE);
    expect(() => guard.assert()).toThrow(MissingLocks);
    const whole = new LockGuard([`site\0${SITE}`]);
    whole.check('email', SITE, 'k');
    whole.checkSite(SITE);
    expect(() => whole.assert()).not.toThrow();
  });

  it("reads an entry's people ahead: the same answers as asking, from far fewer statements", async () => {
    const people = Array.from({ length: 20 }, (_, i) => item(`ra${i}`, 'R', 5, `ra-${i}`));
    await applyIdentity(one, SITE, people[3], 1); // one of them already pending
    const entry = { seq: 0, op: 'identify', site: SITE, items: people };
    const statements = async (ahead: boolean) =>
      one
        .transaction({ shared: [], exclusive: [] }, async (tx) => {
          let n = 0;
          const query = tx.query.bind(tx);
          tx.query = ((sql: string, params?: unknown[]) => {
            n++;
            return query(sql, params);
          }) as typeof tx.query;
          if (ahead) await tx.readAhead(SITE, keysOf(people));
          expect((await tx.getPending(SITE, 'ra3'))!.profile.f.name).toBe('R');
          expect(await tx.getPending(SITE, 'ra4')).toBeUndefined();
          expect(await tx.hasMessage(SITE, 'ra-3')).toBe(true);
          for (const i of people) await applyIdentity(tx, SITE, i, 2);
          // Its own writes, as the database would answer them.
          expect((await tx.getPending(SITE, 'ra4'))!.profile.f.email).toBe('ra4@x.test');
          expect(await tx.hasMessage(SITE, 'ra-4')).toBe(true);
          expect(await tx.getPendingAccount(SITE, 'shared')).toBeDefined();
          await tx.putUser({ site: SITE, id: 'u-ra', email: 'ra9@x.test', created_at: 1, updated_at: 1 });
          expect((await tx.getUserByEmail(SITE, 'ra9@x.test'))!.id).toBe('u-ra');
          await tx.putUser({ site: SITE, id: 'u-ra', email: 'moved@x.test', created_at: 1, updated_at: 2 });
          expect(await tx.getUserByEmail(SITE, 'ra9@x.test')).toBeUndefined();
          await tx.deleteUser(SITE, 'u-ra');
          expect(await tx.getUserByEmail(SITE, 'moved@x.test')).toBeUndefined();
          throw Object.assign(new Error('roll back'), { n });
        })
        .catch((e: { n?: number }) => {
          if (e.n === undefined) throw e;
          return e.n;
        });
    const asked = await statements(false);
    const readAhead = await statements(true);
    expect(readAhead).toBeLessThan(asked / 2);
  });
});
