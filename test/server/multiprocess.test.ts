/**
 * Several collectors on one PostgreSQL database (issue 8): two processes share the identify
 * and feedback load, one is killed with SIGKILL in the middle of it and restarted. Every
 * acknowledged identity is applied exactly once, no pending identity is promoted twice, and
 * no field ends older than the newest acknowledged update.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCollector } from '../helpers/process.ts';
import { DATABASE_URL, suiteSchema } from '../store/pg-schema.ts';

const ADMIN = 'multiprocess-admin-key-01';
const procs: ChildProcess[] = [];
const dirs: string[] = [];

function start(url: string) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-mp-'));
  dirs.push(dir);
  const p = spawnCollector({
    PARLEY_DATA_DIR: dir,
    PARLEY_DEMO_ADMIN_KEY: ADMIN,
    PARLEY_STORE: 'postgres',
    DATABASE_URL: url,
    PARLEY_CHECKPOINT_MS: '200',
    PARLEY_RATE_LIMIT: 'off',
  });
  procs.push(p.child);
  return p;
}

const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** Runs `tasks` with at most `n` in flight. */
async function pool<T>(tasks: (() => Promise<T>)[], n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < tasks.length) await tasks[next++]();
    }),
  );
}

function shuffle<T>(xs: T[], seed: number): T[] {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

describe.skipIf(!DATABASE_URL)('two collectors on one PostgreSQL database', () => {
  const pgs = suiteSchema();
  afterAll(async () => {
    const running = procs.filter((p) => p.exitCode === null && p.signalCode === null);
    for (const p of running) p.kill('SIGKILL');
    await Promise.all(running.map((p) => new Promise((r) => p.once('exit', r))));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('applies every acknowledged identity exactly once when one is killed mid-load and restarted', async () => {
    const a = start(pgs.schema.url);
    const urlA = await a.ready;
    const b = start(pgs.schema.url);
    const urlB = await b.ready;
    let targets = [urlA, urlB];

    const USERS = 40;
    const UPDATES = 6;
    const T = Date.now();
    // Update k of user i: name n<k>, its account's MRR k. Versions order by k whichever
    // process receives them: observed_at moves by 100 s per k, far more than the load lasts.
    type Update = { user: number; k: number; message_id: string };
    const updates: Update[] = [];
    for (let i = 0; i < USERS; i++)
      for (let k = 1; k <= UPDATES; k++) updates.push({ user: i, k, message_id: `m-${i}-${k}` });
    shuffle(updates, 7);
    const identity = (i: number) => ({ id: `mp-${i}`, email: `mp-${i}@x.test` });

    const ackedIdentify = new Set<string>();
    const ackedFeedback = new Map<string, number>();
    const maxAcked = new Map<number, number>();
    const accountOf = (i: number) => `acct-${i % 8}`;
    const sentFeedback = new Set<string>();

    /** Sends to one process; on a network failure (the killed one) retries on the other, as the widget would. */
    const send = async (n: number, path: string, body: unknown, headers?: Record<string, string>) => {
      for (let attempt = 0; attempt < 6; attempt++) {
        const url = targets[(n + attempt) % targets.length];
        try {
          const res = await post(url, path, body, headers);
          if (res.status < 500) return res;
        } catch {
          /* connection refused or reset: try the other collector */
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return null;
    };

    const tasks: (() => Promise<void>)[] = [];
    for (let b0 = 0; b0 < updates.length; b0 += 4) {
      const batch = updates.slice(b0, b0 + 4);
      const n = tasks.length;
      tasks.push(async () => {
        const identities = batch.map((u) => ({
          ...identity(u.user),
          name: `n${u.k}`,
          account: { id: accountOf(u.user), mrr_cents: u.k },
          message_id: u.message_id,
          observed_at: T - 100_000_000 + u.k * 100_000,
        }));
        const res = await send(n, '/api/widget/v1/demo/identify', { sent_at: T, identities });
        if (res?.status === 202)
          for (const u of batch) {
            ackedIdentify.add(u.message_id);
            maxAcked.set(u.user, Math.max(maxAcked.get(u.user) ?? 0, u.k));
          }
      });
      // Every third user gives feedback mid-load, sent to both collectors at once: one feedback, one promotion.
      if (n % 3 === 0) {
        const i = batch[0].user;
        const message_id = `fb-${i}-${n}`;
        sentFeedback.add(message_id);
        const body = { message_id, kind: 'idea', title: `Idea ${n}`, identity: identity(i) };
        tasks.push(async () => {
          const results = await Promise.all([
            send(n, '/api/widget/v1/demo/feedback', body),
            send(n + 1, '/api/widget/v1/demo/feedback', body),
          ]);
          for (const r of results) if (r?.status === 201) ackedFeedback.set(message_id, i);
        });
      }
    }
    // Bulk identities of people who never give feedback: they must all be pending at the end.
    const bulkIds: string[] = [];
    // One batch larger than an entry (ENTRY_ITEMS, 250): several set-based entries of one request.
    const BULK = [50, 50, 600, 50, 50, 50];
    for (let j = 0; j < BULK.length; j++) {
      const identities = Array.from({ length: BULK[j] }, (_, x) => ({
        id: `bulk-${j}-${x}`,
        email: `bulk-${j}-${x}@x.test`,
      }));
      const n = tasks.length;
      tasks.splice(j * 10, 0, async () => {
        const res = await send(n, '/api/v2/admin/bulk_identify', { identities }, { authorization: `Bearer ${ADMIN}` });
        if (res?.status === 202) bulkIds.push(...identities.map((i) => i.id));
      });
    }

    const half = Math.floor(tasks.length / 2);
    const killAt = Math.floor(tasks.length / 3);
    let restarted: ReturnType<typeof start> | null = null;
    await pool(tasks.slice(0, killAt), 6);
    // SIGKILL while requests to it are in flight.
    const inFlight = pool(tasks.slice(killAt, half), 6);
    await new Promise((r) => setTimeout(r, 30));
    a.child.kill('SIGKILL');
    expect(await a.exited).toBeNull();
    await inFlight;
    targets = [urlB];
    restarted = start(pgs.schema.url);
    const urlA2 = await restarted.ready;
    targets = [urlA2, urlB];
    await pool(tasks.slice(half), 6);

    // Drained: nothing left in the shared intake, by either process.
    for (let i = 0; ; i++) {
      const left = Number((await pgs.db.query('SELECT count(*) AS n FROM intake')).rows[0].n);
      if (left === 0) break;
      if (i > 300) throw new Error(`${left} intake rows never applied`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(Number((await pgs.db.query('SELECT count(*) AS n FROM intake_failed')).rows[0].n)).toBe(0);

    expect(ackedIdentify.size).toBeGreaterThan(updates.length / 2);
    expect(bulkIds.length).toBe(850);

    // Every acknowledged identity applied (its message id remembered)...
    const messages = new Set(
      (await pgs.db.query<{ message_id: string }>('SELECT message_id FROM messages')).rows.map((r) => r.message_id),
    );
    for (const m of ackedIdentify) expect(messages.has(m), m).toBe(true);
    const pendingBulk = Number(
      (await pgs.db.query(`SELECT count(*) AS n FROM pending WHERE external_id LIKE 'bulk-%'`)).rows[0].n,
    );
    expect(pendingBulk).toBe(850);

    // ...each person once: visible or pending, never both; one user per email.
    const eus = (
      await pgs.db.query<{ external_id: string; doc: any }>(
        `SELECT external_id, doc FROM external_users WHERE external_id LIKE 'mp-%'`,
      )
    ).rows;
    const pend = (
      await pgs.db.query<{ external_id: string; doc: any }>(
        `SELECT external_id, doc FROM pending WHERE external_id LIKE 'mp-%'`,
      )
    ).rows;
    const visible = new Set(eus.map((r) => r.external_id));
    for (const p of pend) expect(visible.has(p.external_id), p.external_id).toBe(false);
    const dupEmails = await pgs.db.query('SELECT email FROM users GROUP BY email HAVING count(*) > 1');
    expect(dupEmails.rowCount).toBe(0);

    // Feedback: each acknowledged message once, linked to its promoted author.
    const fb = (
      await pgs.db.query<{ message_id: string; user_id: string; doc: any }>(
        `SELECT message_id, user_id, doc FROM feedback`,
      )
    ).rows;
    expect(new Set(fb.map((f) => f.message_id)).size).toBe(fb.length);
    for (const [m, i] of ackedFeedback) {
      const row = fb.find((f) => f.message_id === m);
      expect(row, m).toBeDefined();
      expect(row!.doc.external_user_id).toBe(`mp-${i}`);
      expect(visible.has(`mp-${i}`)).toBe(true);
    }
    for (const f of fb) expect(sentFeedback.has(f.message_id)).toBe(true);
    expect(Number((await pgs.db.query('SELECT count(*) AS n FROM users')).rows[0].n)).toBe(visible.size);

    // No field regressed: each person's name is from their newest acknowledged update or a newer one.
    const profiles = new Map([...eus, ...pend].map((r) => [r.external_id, r.doc.profile]));
    for (const [i, k] of maxAcked) {
      const profile = profiles.get(`mp-${i}`);
      expect(profile, `mp-${i}`).toBeDefined();
      expect(Number(String(profile.f.name).slice(1)), `mp-${i}`).toBeGreaterThanOrEqual(k);
    }
    const accounts = new Map(
      [
        ...(await pgs.db.query<{ key: string; doc: any }>('SELECT key, doc FROM accounts')).rows,
        ...(await pgs.db.query<{ key: string; doc: any }>('SELECT key, doc FROM pending_accounts')).rows,
      ].map((r) => [r.key, r.doc.profile.f.mrr_cents as number]),
    );
    for (const [i, k] of maxAcked) expect(accounts.get(accountOf(i))!, accountOf(i)).toBeGreaterThanOrEqual(k);

    // The row counts kept by the set-based writes' statement triggers match the rows.
    const kept = new Map(
      (await pgs.db.query<{ tbl: string; n: string }>('SELECT tbl, sum(n) AS n FROM row_counts GROUP BY tbl')).rows.map(
        (r) => [r.tbl, Number(r.n)],
      ),
    );
    for (const t of ['users', 'external_users', 'accounts', 'pending', 'feedback']) {
      const n = Number((await pgs.db.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
      expect(kept.get(t) ?? 0, t).toBe(n);
    }

    restarted.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
    expect(await b.exited).toBe(0);
  }, 300_000);
});
