/**
 * What limits applying on PostgreSQL (docs/PERFORMANCE.md, PostgreSQL): a backlog of TOTAL
 * identities (bulk_identify ×BATCH, explicit unique message ids, 2 senders per collector) is
 * acknowledged by COLLECTORS real collector processes on a fresh schema, then the intake table
 * is polled until empty. Prints one JSON line: identities applied per second from the first
 * request, the mean number of this bench's backends waiting on a lock (sampled every 200 ms), and
 * CPU per identity from /proc (start-up excluded): the collectors' processes (acknowledging and applying) and the
 * PostgreSQL backends serving them (by application_name, sampled every 200 ms; the WAL writer
 * and checkpointer not included) — a figure that moves less with a shared machine's load.
 * Not part of `npm run bench`; one case takes about as long as TOTAL / 500 seconds.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx test/bench/pg-apply.ts COLLECTORS BATCH TOTAL [VARIANT]
 *
 * BENCH_NODE_ARGS adds node flags to each collector (`--cpu-prof --cpu-prof-dir=DIR` to profile one);
 * BENCH_ROOT runs the collectors of another checkout (a before/after pair on the same schema code).
 *
 * VARIANT: `base`; `nosync` (the collectors' sessions with synchronous_commit=off); `notrig`
 * (the row-count triggers of migration 003 disabled in this schema); `uniqacct` (every identity
 * names its own account, so batches of ≤ 20 share no advisory lock key).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createSchema } from '../store/pg-schema.ts';
import { identity } from './payloads.ts';
import { ADMIN_KEY, startCollector, type Proc } from './proc.ts';

const [collectors, batch, total] = process.argv.slice(2, 5).map(Number);
const variant = process.argv[5] ?? 'base';
if (
  !process.env.DATABASE_URL ||
  !(collectors > 0 && batch > 0 && total > 0) ||
  !['base', 'nosync', 'notrig', 'uniqacct'].includes(variant)
) {
  console.error(
    'usage: DATABASE_URL=... npx tsx test/bench/pg-apply.ts COLLECTORS BATCH TOTAL [base|nosync|notrig|uniqacct]',
  );
  process.exit(2);
}

const schema = await createSchema();
const app = `parley-apply-${schema.name.slice(-12)}`;
const url = new URL(schema.url);
if (variant === 'nosync') url.searchParams.set('options', `-c search_path=${schema.name} -c synchronous_commit=off`);
url.searchParams.set('application_name', app);
const procs: Proc[] = [];
const dirs: string[] = [];
const db = new pg.Client({ connectionString: schema.url });
try {
  for (let i = 0; i < collectors; i++) {
    dirs.push(mkdtempSync(join(tmpdir(), 'parley-bench-pg-apply-')));
    procs.push(
      await startCollector(
        dirs[i],
        { PARLEY_STORE: 'postgres', DATABASE_URL: url.toString() },
        (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
        process.env.BENCH_ROOT,
      ),
    );
  }
  await db.connect();
  if (variant === 'notrig')
    for (const t of ['users', 'external_users', 'accounts', 'pending', 'feedback'])
      await db.query(`ALTER TABLE ${t} DISABLE TRIGGER USER`);
  /** Each backend's CPU seconds as last seen (utime + stime; 100 ticks/s on Linux). */
  const backends = new Map<number, number>();
  const sampleBackends = async () => {
    const r = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [app]);
    for (const { pid } of r.rows) {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        backends.set(pid, (Number(f[11]) + Number(f[12])) / 100);
      } catch {
        // ended between the query and the read
      }
    }
  };
  // Start-up (module loading, migrations) is not applying: each process's CPU before the
  // first request is subtracted.
  await sampleBackends();
  const backendsAtStart = new Map(backends);
  const collectorsAtStart = procs.map((p) => p.cpuSeconds());
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` };
  const t0 = performance.now();
  let sent = 0;
  let serial = 0;
  const sender = async (p: Proc) => {
    while (sent < total) {
      const b = serial++;
      sent += batch;
      const body = JSON.stringify({
        identities: Array.from({ length: batch }, (_, j) => ({
          ...identity(`a${b}`, j),
          message_id: `m-${b}-${j}`,
          ...(variant === 'uniqacct' ? { account: { id: `acct-${b}-${j}`, name: 'Account', monthly_rate: 10 } } : {}),
        })),
      });
      const res = await fetch(`${p.url}/api/v2/admin/bulk_identify`, { method: 'POST', headers, body });
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`bulk_identify answered ${res.status}`);
    }
  };
  await Promise.all(procs.flatMap((p) => [sender(p), sender(p)]));
  const tAck = performance.now();
  let waiting = 0;
  let samples = 0;
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await db.query<{ n: string }>(sql, params)).rows[0].n);
  for (;;) {
    await sampleBackends();
    waiting += await count(
      'SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted AND a.application_name = $1',
      [app],
    );
    samples++;
    if ((await count('SELECT count(*) AS n FROM intake')) === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const s = (performance.now() - t0) / 1000;
  await sampleBackends();
  const collectorCpu = procs.reduce((a, p, i) => a + p.cpuSeconds() - collectorsAtStart[i], 0);
  const backendCpu = [...backends].reduce((a, [pid, cpu]) => a + cpu - (backendsAtStart.get(pid) ?? 0), 0);
  const stored = await count('SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM pending) AS n');
  console.log(
    JSON.stringify({
      collectors,
      batch,
      variant,
      sent,
      stored,
      ack_s: +((tAck - t0) / 1000).toFixed(1),
      applied_s: +s.toFixed(1),
      applied_per_s: Math.round(stored / s),
      mean_waiting_backends: +(waiting / samples).toFixed(2),
      collector_cpu_us_per_id: Math.round((collectorCpu * 1e6) / sent),
      postgres_cpu_us_per_id: Math.round((backendCpu * 1e6) / sent),
    }),
  );
} finally {
  await Promise.all(procs.map((p) => p.stop()));
  await db.end().catch(() => undefined);
  await schema.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
