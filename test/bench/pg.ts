/**
 * PostgreSQL figures (issue 8): real collector processes (`server/main.ts`, PARLEY_STORE=postgres,
 * rate limits off) on a fresh schema of the database at DATABASE_URL, dropped at the end.
 *
 * 1. Acknowledgement with one and with two collectors on one database: admin `bulk_identify`
 *    ×100 (never-seen people, so each becomes a pending identity), 10 connections in all
 *    (5 + 5, two autocannon runs at once, summed, for two collectors), 1 s warm-up then
 *    PG_SECONDS (3: applying is ~40× slower than acknowledging, and everything acknowledged
 *    is waited for). Then the shared intake table is polled until it is empty: the apply lag
 *    after the last 202, at most PG_DRAIN_TIMEOUT_S (90; beyond, projected from the rate
 *    applied meanwhile). Users + pending identities are then checked against what was
 *    committed to the intake: any difference is acknowledged identities never applied.
 * 2. Listings at 1M users (PG_USERS): visible users with their external users, seeded in SQL
 *    (pg-seed.ts), one collector, `GET /api/v2/admin/users` and `/stats` timed over HTTP
 *    (20 calls each after 2 unmeasured), and, where the first page carries a string
 *    `pagination.next`, 50 pages walked by `after` from page 24,999's cursor. Seeding and timing take
 *    about 2 minutes.
 *
 * CPU is read from /proc: the collectors' own processes, and the PostgreSQL backends serving
 * this bench (found by the `application_name` set on the collectors' URL); WAL writer,
 * checkpointer and other clients of the server are not in that figure.
 *
 * Run alone: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/test BENCH_ONLY=pg npx tsx test/bench/run.ts`
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createSchema, type TestSchema } from '../store/pg-schema.ts';
import { seedPostgres, type PgSeedResult } from './pg-seed.ts';
import { bulkBodies, identity } from './payloads.ts';
import { ROOT } from '../../server/paths.ts';
import { ADMIN_KEY, startCollector, type Proc } from './proc.ts';

export interface PgAckResult {
  collectors: number;
  connections: string;
  /** Acknowledged (202) identities per second in the measured window, summed over collectors. */
  identities_per_s: number;
  /** Latency of every response of the window, all collectors together. */
  p50_ms: number;
  p99_ms: number;
  non_2xx: number;
  errors: number;
  /** Identities the client saw acknowledged, warm-up included. */
  acknowledged: number;
  /** Identities committed to the intake (counted by a trigger): also those in flight when the client stopped. */
  committed: number;
  /** Users + pending identities at the end: each identity sent is a new person. */
  stored: number;
  /**
   * Acknowledged identities that are not applied and never will be: committed − stored −
   * distinct new message ids still queued (a queued item whose message id was applied already
   * is skipped as a duplicate).
   */
  lost: number;
  /**
   * From the last 202 until the intake table was empty; when that did not happen within
   * PG_DRAIN_TIMEOUT_S (`drain_measured` false), projected from the rate applied meanwhile.
   */
  applied_after_last_202_s: number;
  drain_measured: boolean;
  /** Identities applied per second after the last 202 (the appliers alone). */
  apply_ids_per_s: number;
  /** CPU per stored identity, from the first request to the end: the collectors, the PostgreSQL backends. */
  collector_cpu_us_per_id: number;
  postgres_cpu_us_per_id: number;
  /** From the first request until drained (or the timeout). */
  elapsed_s: number;
}

export interface PgListingResult {
  call: string;
  calls: number;
  p50_ms: number;
  p95_ms: number;
  /** `pagination.total_records` (or `users` for /stats) of the last answer. */
  records: number | null;
  /** CPU per call: the collector process, the PostgreSQL backends. */
  collector_cpu_ms: number;
  postgres_cpu_ms: number;
}

export interface PgResult {
  /** When this step ran, and the machine's load then (it may be merged into another run's results.json). */
  date: string;
  /** The checkout measured: HEAD, and whether server/ or shared/ had uncommitted changes. */
  commit: string;
  load_average: { start: number[]; end: number[] };
  duration_s: number;
  ack: PgAckResult[];
  /** Bursts applied to the end (PG_BURST identities each; PG_BACKFILL for the large one, 0: skipped). */
  bursts: PgBurstResult[];
  seed: PgSeedResult;
  listings: PgListingResult[];
  /** Why there is no cursor row, when there is none. */
  cursor_note: string | null;
  postgres: string;
}

const BATCH = 100;
const CONNECTIONS = 10;
const CLOCK_TICKS = 100;
const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (x: number) => +x.toFixed(1);

/** A fresh schema whose URL also names this bench's connections, so their backends can be found. */
async function freshSchema(): Promise<TestSchema & { app: string }> {
  const s = await createSchema();
  const url = new URL(s.url);
  const app = `parley-bench-${s.name.slice(-12)}`;
  url.searchParams.set('application_name', app);
  return { ...s, url: url.toString(), app };
}

/** CPU seconds of a process from /proc (utime + stime), NaN once it is gone. */
function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/**
 * CPU used by the PostgreSQL backends of the connections named `app`, sampled every 250 ms
 * (a backend that ends between two samples loses its last 250 ms).
 */
function backendCpu(monitor: pg.Client, app: string) {
  const seen = new Map<number, { first: number; last: number }>();
  const sample = async () => {
    const r = await monitor.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
      app,
    ]);
    for (const { pid } of r.rows) {
      const c = cpuOf(pid);
      if (Number.isNaN(c)) continue;
      const s = seen.get(pid);
      if (s) s.last = c;
      else seen.set(pid, { first: c, last: c });
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let pending: Promise<void> = Promise.resolve();
  return {
    async start() {
      seen.clear();
      await sample();
      timer = setInterval(() => {
        pending = sample().catch(() => undefined);
      }, 250);
    },
    async stop(): Promise<number> {
      clearInterval(timer);
      await pending;
      await sample();
      return [...seen.values()].reduce((a, s) => a + s.last - s.first, 0);
    },
  };
}

async function stats(url: string) {
  const res = await fetch(`${url}/api/v2/admin/stats`, { headers });
  if (res.status !== 200) throw new Error(`/stats answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { users: number; pending_identities: number; queue: { depth: number } };
}

/** autocannon on one collector; every response's latency and the time of the last 2xx are kept. */
function cannon(p: Proc, connections: number, seconds: number, next: () => string) {
  return new Promise<{
    ok: number;
    non2xx: number;
    errors: number;
    duration: number;
    latencies: number[];
    last2xx: number;
  }>((resolve, reject) => {
    const latencies: number[] = [];
    let last2xx = performance.now();
    const instance = autocannon(
      {
        url: p.url,
        connections,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/api/v2/admin/bulk_identify',
            headers,
            setupRequest: (req: any) => ({ ...req, body: next() }),
          },
        ],
      },
      (err: unknown, r: any) => {
        if (err) return reject(err);
        resolve({
          ok: r['2xx'],
          non2xx: r.non2xx,
          errors: r.errors + r.timeouts,
          duration: r.duration,
          latencies,
          last2xx,
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, time: number) => {
      latencies.push(time);
      if (status >= 200 && status < 300) last2xx = performance.now();
    });
  });
}

/** The schema's URL for the bench's own queries: another application_name, so its backend is not counted. */
function monitorUrl(schemaUrl: string): string {
  const u = new URL(schemaUrl);
  u.searchParams.set('application_name', 'parley-bench-monitor');
  return u.toString();
}

/** A collector on `schemaUrl` with a data directory of its own, both released by `cleanup`. */
async function pgCollector(schemaUrl: string, cleanup: Cleanup): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-pg-'));
  cleanup.dirs.add(dir);
  const p = await startCollector(dir, { PARLEY_STORE: 'postgres', DATABASE_URL: schemaUrl });
  cleanup.procs.add(p);
  return p;
}

/** Acknowledgement and apply lag with `n` collectors on one fresh schema. */
async function ackRun(n: number, seconds: number, drainTimeoutS: number, cleanup: Cleanup): Promise<PgAckResult> {
  const schema = await freshSchema();
  cleanup.schemas.add(schema);
  const procs: Proc[] = [];
  let drained: number | null = null;
  const db = new pg.Client({ connectionString: monitorUrl(schema.url) });
  try {
    // One after the other: the first migrates the schema and creates the site.
    for (let i = 0; i < n; i++) procs.push(await pgCollector(schema.url, cleanup));
    await db.connect();
    cleanup.clients.add(db);
    // Identities committed to the intake, counted as they are inserted (this bench's own table
    // and trigger, in its own schema): exact where the client misses requests still in flight
    // when autocannon stops, and whatever number of rows the server splits a batch into.
    await db.query(`CREATE TABLE bench_committed (n bigint NOT NULL);
      CREATE FUNCTION bench_count_intake() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        INSERT INTO bench_committed SELECT coalesce(sum(json_array_length(entry->'items')), 0) FROM new_rows WHERE entry->>'op' = 'identify';
        RETURN NULL;
      END $$;
      CREATE TRIGGER bench_count_intake AFTER INSERT ON intake REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bench_count_intake();`);
    const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0].n);
    /** Identities stored (applied): every one is new, so each is a user or a pending identity. */
    const stored = () => count('SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM pending) AS n');
    const per = procs.map((_, i) => Math.floor(CONNECTIONS / n) + (i < CONNECTIONS % n ? 1 : 0));
    const bodies = procs.map((_, i) => bulkBodies(BATCH, `pg${n}c${i}-`));
    const cpu0 = procs.map((p) => p.cpuSeconds());
    const pgCpu = backendCpu(db, schema.app);
    await pgCpu.start();
    const t0 = performance.now();
    const warm = await Promise.all(procs.map((p, i) => cannon(p, per[i], 1, bodies[i])));
    const runs = await Promise.all(procs.map((p, i) => cannon(p, per[i], seconds, bodies[i])));
    const lastAck = Math.max(...runs.map((r) => r.last2xx));
    const acknowledged = [...warm, ...runs].reduce((a, r) => a + r.ok * BATCH, 0);
    const atAck = await stored();
    // Polled on the intake table itself, every 250 ms: /stats' queue depth reads every queued
    // entry's JSON, which would compete with the appliers for the database.
    const deadline = lastAck + drainTimeoutS * 1000;
    let left = await count('SELECT count(*) AS n FROM intake');
    while (left > 0 && performance.now() < deadline) {
      await sleep(250);
      left = await count('SELECT count(*) AS n FROM intake');
    }
    const end = performance.now();
    if (left === 0) drained = end;
    const postgresCpu = await pgCpu.stop();
    const collectorCpu = procs.reduce((a, p, i) => a + p.cpuSeconds() - cpu0[i], 0);
    // In one snapshot: what is stored, and how many distinct message ids still queued are new.
    // An item whose message id was applied already (or is queued twice) is skipped as a
    // duplicate when its turn comes, so whatever is neither stored nor fresh is lost.
    const end2 = (
      await db.query<{ stored: string; fresh: string; queued: string }>(`WITH items AS (
        SELECT i->>'message_id' AS m FROM intake, json_array_elements(entry->'items') AS i WHERE entry->>'op' = 'identify')
      SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM pending) AS stored, (SELECT count(*) FROM items) AS queued,
        (SELECT count(DISTINCT m) FROM items WHERE NOT EXISTS (SELECT 1 FROM messages WHERE message_id = items.m)) AS fresh`)
    ).rows[0];
    const atEnd = Number(end2.stored);
    if (drained) {
      const st = await stats(procs[0].url);
      if (st.users + st.pending_identities !== atEnd)
        throw new Error(`/stats counts ${st.users} + ${st.pending_identities}, the tables ${atEnd}`);
    }
    const committed = await count('SELECT coalesce(sum(n), 0) AS n FROM bench_committed');
    const applyRate = (atEnd - atAck) / ((end - lastAck) / 1000);
    if (!drained)
      process.stderr.write(
        `bench: pg: ${n} collector(s): ${end2.queued} identities still in the intake ${drainTimeoutS} s after the last 202 (PG_DRAIN_TIMEOUT_S)\n`,
      );
    const latencies = runs.flatMap((r) => r.latencies);
    return {
      collectors: n,
      connections: per.join(' + '),
      identities_per_s: Math.round(runs.reduce((a, r) => a + (r.ok * BATCH) / r.duration, 0)),
      p50_ms: ms(percentile(latencies, 50)),
      p99_ms: ms(percentile(latencies, 99)),
      non_2xx: runs.reduce((a, r) => a + r.non2xx, 0),
      errors: runs.reduce((a, r) => a + r.errors, 0),
      acknowledged,
      committed,
      stored: atEnd,
      lost: committed - atEnd - Number(end2.fresh),
      applied_after_last_202_s: +(
        (drained ? drained - lastAck : end - lastAck + (Number(end2.queued) * 1000) / applyRate) / 1000
      ).toFixed(1),
      drain_measured: drained !== null,
      apply_ids_per_s: Math.round(applyRate),
      collector_cpu_us_per_id: Math.round((collectorCpu * 1e6) / atEnd),
      postgres_cpu_us_per_id: Math.round((postgresCpu * 1e6) / atEnd),
      elapsed_s: +((end - t0) / 1000).toFixed(1),
    };
  } finally {
    // A collector with a backlog would spend its 10 s shutdown grace applying it: not needed here.
    await Promise.all(
      procs.map(async (p) => {
        if (!drained) p.child.kill('SIGKILL');
        await p.stop();
        cleanup.procs.delete(p);
      }),
    );
    await db.end().catch(() => undefined);
    cleanup.clients.delete(db);
    await schema.drop();
    cleanup.schemas.delete(schema);
  }
}

/** GET `path` `n` times (after 2 unmeasured); wall time per call and CPU per call. */
async function timeCalls(
  p: Proc,
  db: ReturnType<typeof backendCpu>,
  call: string,
  path: string | (() => string),
  n = 20,
): Promise<PgListingResult & { last: any }> {
  const get = async () => {
    const url = `${p.url}/api/v2/admin/${typeof path === 'string' ? path : path()}`;
    const res = await fetch(url, { headers });
    const body = await res.json();
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${JSON.stringify(body)}`);
    return body;
  };
  for (let i = 0; i < 2; i++) await get();
  await db.start();
  const cpu0 = p.cpuSeconds();
  const times: number[] = [];
  let last: any;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    last = await get();
    times.push(performance.now() - t);
  }
  const collector = p.cpuSeconds() - cpu0;
  const postgres = await db.stop();
  return {
    call,
    calls: n,
    p50_ms: ms(percentile(times, 50)),
    p95_ms: ms(percentile(times, 95)),
    records: last?.pagination?.total_records ?? last?.users ?? null,
    collector_cpu_ms: ms((collector * 1000) / n),
    postgres_cpu_ms: ms((postgres * 1000) / n),
    last,
  };
}

/**
 * Walks `pages` pages by `after`, starting from the `pagination.next` of `start` (an offset
 * page): ms per page. Null when the listing does not hand out cursors.
 */
async function cursorWalk(
  p: Proc,
  db: ReturnType<typeof backendCpu>,
  call: string,
  query: string,
  start: number,
  pages: number,
): Promise<PgListingResult | null> {
  const first = (await (
    await fetch(`${p.url}/api/v2/admin/users?${query}&per_page=20&page=${start}`, { headers })
  ).json()) as any;
  let next: unknown = first?.pagination?.next;
  if (typeof next !== 'string') return null;
  const page = (after: string) =>
    fetch(`${p.url}/api/v2/admin/users?${query}&per_page=20&after=${encodeURIComponent(after)}`, { headers });
  for (let i = 0; i < 2; i++) await (await page(next)).arrayBuffer(); // unmeasured, as for the other calls
  // Walk: each call resumes after the previous page, so the calls are made one by one here.
  await db.start();
  const cpu0 = p.cpuSeconds();
  const times: number[] = [];
  let records: number | null = null;
  for (let i = 0; i < pages && typeof next === 'string'; i++) {
    const t = performance.now();
    const res = await page(next);
    const body = (await res.json()) as any;
    times.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`cursor page answered ${res.status}: ${JSON.stringify(body)}`);
    if (!Array.isArray(body.users) || body.users.length === 0) throw new Error('cursor page without users');
    next = body.pagination?.next;
    records = body.pagination?.total_records ?? null;
  }
  const collector = p.cpuSeconds() - cpu0;
  const postgres = await db.stop();
  return {
    call,
    calls: times.length,
    p50_ms: ms(percentile(times, 50)),
    p95_ms: ms(percentile(times, 95)),
    records,
    collector_cpu_ms: ms((collector * 1000) / times.length),
    postgres_cpu_ms: ms((postgres * 1000) / times.length),
  };
}

export interface PgBurstResult {
  /** `new`: never-seen people (each becomes pending); `update`: people seeded visible, each updated once. */
  kind: 'new' | 'update';
  collectors: number;
  /** Identities sent, bulk_identify ×1000, 4 requests in flight per collector. */
  sent: number;
  acknowledged: number;
  /** From the first request to the last 202, s. */
  ack_s: number;
  /** From the last 202 until the intake table was empty, s. */
  applied_after_last_202_s: number;
  /** Identities applied per second, first request to fully applied. */
  applied_per_s: number;
  /** Message ids recorded as applied: each acknowledged identity once (applied twice is impossible: a key). */
  applied: number;
  /** Acknowledged − applied (0: nothing acknowledged was lost). */
  lost: number;
  /** `new`: users + pending identities − distinct people sent (> 0: someone stored twice). */
  extra_people: number;
  load_after: number;
}

const BURST_BATCH = 1000;

/**
 * A burst of `total` identities acknowledged as fast as `n` collectors take them, then applied:
 * the time from the last 202 until everything is applied, and whether anything acknowledged
 * was lost or applied twice. `update` seeds `total` visible people first (pg-seed.ts) and
 * sends each of them once more, newer: every identity updates an existing external user.
 */
async function burstRun(kind: 'new' | 'update', n: number, total: number, cleanup: Cleanup): Promise<PgBurstResult> {
  const schema = await freshSchema();
  cleanup.schemas.add(schema);
  const procs: Proc[] = [];
  const db = new pg.Client({ connectionString: monitorUrl(schema.url) });
  try {
    if (kind === 'update') await seedPostgres(schema.url, { users: total, accounts: 1000 });
    for (let i = 0; i < n; i++) procs.push(await pgCollector(schema.url, cleanup));
    await db.connect();
    cleanup.clients.add(db);
    const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0].n);
    const people0 = await count('SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM pending) AS n');
    let next = 0;
    let acknowledged = 0;
    let lastAck = 0;
    const t0 = performance.now();
    const sender = async (p: Proc) => {
      for (;;) {
        const b = next++;
        if (b * BURST_BATCH >= total) return;
        const identities = Array.from({ length: Math.min(BURST_BATCH, total - b * BURST_BATCH) }, (_, j) => {
          const i = b * BURST_BATCH + j;
          // Explicit message ids: the server stores only those (its generated `adm:` ids are
          // identified by their log position, README), and `applied` counts them.
          const message_id = `burst-${kind}-${n}-${i}`;
          return { ...(kind === 'update' ? identity('seed', i) : identity(`burst${n}-${b}`, j)), message_id };
        });
        for (;;) {
          const res = await fetch(`${p.url}/api/v2/admin/bulk_identify`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ identities }),
          });
          await res.arrayBuffer();
          if (res.status === 202) break;
          if (res.status !== 503) throw new Error(`bulk_identify answered ${res.status}`);
          await sleep(100); // the queue is full: back off, as a client would
        }
        acknowledged += identities.length;
        lastAck = performance.now();
      }
    };
    await Promise.all(procs.flatMap((p) => Array.from({ length: 4 }, () => sender(p))));
    while ((await count('SELECT count(*) AS n FROM intake')) > 0) await sleep(100);
    const end = performance.now();
    const applied = await count('SELECT count(*) AS n FROM messages');
    const people = await count('SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM pending) AS n');
    const failed = await count('SELECT count(*) AS n FROM intake_failed');
    if (failed) throw new Error(`${failed} intake entries failed`);
    return {
      kind,
      collectors: n,
      sent: total,
      acknowledged,
      ack_s: +((lastAck - t0) / 1000).toFixed(1),
      applied_after_last_202_s: +((end - lastAck) / 1000).toFixed(1),
      applied_per_s: Math.round(applied / ((end - t0) / 1000)),
      applied,
      lost: acknowledged - applied,
      extra_people: kind === 'new' ? people - people0 - total : people - people0,
      load_after: +loadavg()[0].toFixed(2),
    };
  } finally {
    await Promise.all(
      procs.map(async (p) => {
        await p.stop();
        cleanup.procs.delete(p);
      }),
    );
    await db.end().catch(() => undefined);
    cleanup.clients.delete(db);
    await schema.drop();
    cleanup.schemas.delete(schema);
  }
}

/** Listing latency over HTTP at `users` seeded users. */
async function listingRun(
  users: number,
  cleanup: Cleanup,
): Promise<{ seed: PgSeedResult; listings: PgListingResult[]; cursor_note: string | null }> {
  const schema = await freshSchema();
  cleanup.schemas.add(schema);
  const monitor = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await monitor.connect();
  cleanup.clients.add(monitor);
  let p: Proc | undefined;
  try {
    process.stderr.write(`bench: pg: seeding ${users.toLocaleString('en-US')} users…\n`);
    const seed = await seedPostgres(schema.url, { users, accounts: 1000 });
    p = await pgCollector(schema.url, cleanup);
    const db = backendCpu(monitor, schema.app);
    const deep = Math.max(1, Math.floor(users / 20) - 1); // 49,999 at 1M: offset 999,960
    const rows: (PgListingResult & { last?: unknown })[] = [];
    rows.push(await timeCalls(p, db, 'users page 1', 'users?per_page=20'));
    const firstPage = rows[0].last as { pagination?: { next?: unknown } };
    rows.push(await timeCalls(p, db, `users page ${deep.toLocaleString('en-US')}`, `users?per_page=20&page=${deep}`));
    rows.push(await timeCalls(p, db, 'sort=-updated_at page 1', 'users?sort=-updated_at&per_page=20'));
    rows.push(
      await timeCalls(
        p,
        db,
        `sort=-updated_at page ${deep.toLocaleString('en-US')}`,
        `users?sort=-updated_at&per_page=20&page=${deep}`,
      ),
    );
    rows.push(await timeCalls(p, db, 'q=seed.4242 page 1', 'users?q=seed.4242&per_page=20'));
    rows.push(await timeCalls(p, db, '/stats', 'stats'));
    let cursor_note: string | null = null;
    if (typeof firstPage?.pagination?.next === 'string') {
      const start = Math.max(1, Math.floor(deep / 2));
      for (const [label, query] of [
        ['users', ''],
        ['sort=-updated_at', 'sort=-updated_at'],
      ] as const) {
        const r = await cursorWalk(
          p,
          db,
          `${label}: 50 pages by after from page ${start.toLocaleString('en-US')}`,
          query,
          start,
          50,
        );
        if (r) rows.push(r);
        else cursor_note = `${label}: page ${start} has no pagination.next`;
      }
    } else {
      cursor_note = 'cursor paging is not available: the first page has no string pagination.next';
      process.stderr.write(`bench: pg: ${cursor_note}\n`);
    }
    return { seed, listings: rows.map(({ last: _l, ...r }) => r), cursor_note };
  } finally {
    if (p) {
      await p.stop();
      cleanup.procs.delete(p);
    }
    await monitor.end().catch(() => undefined);
    cleanup.clients.delete(monitor);
    await schema.drop();
    cleanup.schemas.delete(schema);
  }
}

/** `git` HEAD of the checkout measured, `+dirty` when server/ or shared/ differ from it. */
function checkout(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    return (
      git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--', 'server', 'shared') ? '+dirty' : '')
    );
  } catch {
    return 'unknown';
  }
}

/** The bench's knobs from the environment (run.ts and running this file directly). */
export function pgOptions(env: NodeJS.ProcessEnv) {
  const num = (v: string | undefined) => (v ? Number(v) : undefined);
  return {
    seconds: num(env.PG_SECONDS),
    users: num(env.PG_USERS),
    drainTimeoutS: num(env.PG_DRAIN_TIMEOUT_S),
    burst: num(env.PG_BURST),
    backfill: num(env.PG_BACKFILL),
  };
}

/** What is still running or existing; released on failure and on SIGINT/SIGTERM. */
interface Cleanup {
  procs: Set<Proc>;
  schemas: Set<TestSchema>;
  clients: Set<pg.Client>;
  dirs: Set<string>;
}

export async function pgBench(
  opts: { seconds?: number; users?: number; drainTimeoutS?: number; burst?: number; backfill?: number } = {},
): Promise<PgResult> {
  if (!process.env.DATABASE_URL) throw new Error('pgBench needs DATABASE_URL');
  const started = Date.now();
  const load0 = loadavg().map((l) => +l.toFixed(2));
  const commit = checkout();
  const cleanup: Cleanup = { procs: new Set(), schemas: new Set(), clients: new Set(), dirs: new Set() };
  const release = async () => {
    await Promise.all([...cleanup.procs].map((p) => p.stop()));
    await Promise.all([...cleanup.clients].map((c) => c.end().catch(() => undefined)));
    for (const s of cleanup.schemas)
      await s.drop().catch((e) => process.stderr.write(`bench: pg: could not drop schema ${s.name}: ${e}\n`));
    for (const d of cleanup.dirs) rmSync(d, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`bench: pg: ${signal}, stopping collectors and dropping schemas…\n`);
    void release().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    const version = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v;
    await c.end();
    const seconds = opts.seconds ?? 3;
    const drain = opts.drainTimeoutS ?? 90;
    const ack: PgAckResult[] = [];
    for (const n of [1, 2]) {
      process.stderr.write(
        `bench: pg: ${n} collector(s), bulk_identify ×${BATCH}, ${CONNECTIONS} connections, ${seconds} s…\n`,
      );
      ack.push(await ackRun(n, seconds, drain, cleanup));
    }
    const bursts: PgBurstResult[] = [];
    const burst = opts.burst ?? 100_000;
    for (const [kind, n, total] of [
      ['new', 1, burst],
      ['new', 2, burst],
      ['update', 1, burst],
      ['update', 2, burst],
      ['new', 1, opts.backfill ?? 0],
    ] as const) {
      if (!total) continue;
      process.stderr.write(
        `bench: pg: burst of ${total.toLocaleString('en-US')} ${kind} identities, ${n} collector(s)…\n`,
      );
      bursts.push(await burstRun(kind, n, total, cleanup));
    }
    const listing = await listingRun(opts.users ?? 1_000_000, cleanup);
    return {
      date: new Date(started).toISOString(),
      commit,
      load_average: { start: load0, end: loadavg().map((l) => +l.toFixed(2)) },
      duration_s: Math.round((Date.now() - started) / 1000),
      ack,
      bursts,
      ...listing,
      postgres: version,
    };
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await release();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await pgBench(pgOptions(process.env));
  console.table(r.ack);
  console.table(r.bursts);
  console.table([r.seed]);
  console.table(r.listings);
  if (r.cursor_note) console.log(r.cursor_note);
}
