/**
 * The embedded engine under the load of issue 13 (`BENCH_ONLY=embedded-ack,embedded-checkpoint,
 * embedded-1m`), each figure beside the bare node:http + JSON.parse server of the same run:
 *   - `embedded-ack`: bulk_identify ×100 from 10 connections, 20,000 distinct people sent
 *     round-robin; acknowledged identities/s, p99, then RSS once everything acknowledged is
 *     applied and how long that took after the load ended;
 *   - `embedded-checkpoint`: the same load on a store of 100k visible users + 100k pending
 *     identities whose first checkpoint writes the whole store as a fresh base (a merge), timed
 *     to run during the load: p99 while it runs;
 *   - `embedded-1m`: RSS per pending identity with 1M of them in the store (a child process,
 *     RSS before and after, after full collections; the V8 heap in use beside it, which leaves
 *     out what the young generation and freed pages keep), and the time to open that store in
 *     a fresh process.
 * Steps are short (BENCH_SECONDS, default 8) because the machine is shared.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { ROOT } from '../../server/paths.ts';
import { LowdbStore } from '../../server/engines/embedded/lowdb-store.ts';
import { identity } from './payloads.ts';
import { ADMIN_KEY, sampleRss, startBare, startCollector, type Proc } from './proc.ts';
import { checkpoint, SITE, seedIdentity, seedStore } from './seed.ts';
import { applyIdentity } from '../../server/core/identify.ts';
import { RANK } from '../../server/core/merge.ts';

const PEOPLE = 20_000;
const BATCH = 100;

export interface EmbeddedAck {
  server: 'parley' | 'bare';
  identities_per_s: number;
  p99_ms: number;
  non_2xx: number;
  /** After the load, once the queue is empty. */
  rss_after_mb?: number;
  applied_s_after_load?: number;
  /** Collector CPU (acknowledging and applying) per acknowledged identity: robust to machine load. */
  cpu_us_per_identity?: number;
}
export interface EmbeddedResult {
  ack?: { bare: EmbeddedAck; parley: EmbeddedAck; ratio_of_bare: number; load: number[] };
  /** The same on another checkout (BENCH_BEFORE=<dir>), in the same run. */
  ack_before?: { bare: EmbeddedAck; parley: EmbeddedAck; ratio_of_bare: number; load: number[] };
  checkpoint?: {
    store: string;
    p99_ms: number;
    identities_per_s: number;
    merged_during_load: boolean;
    open_ms: number;
    load: number[];
  };
  million?: {
    identities: number;
    rss_per_identity_b: number;
    heap_per_identity_b: number;
    rss_mb: number;
    open_ms: number;
    /** CPU time of the open: robust to the shared machine's load, unlike its wall time. */
    open_cpu_ms: number;
    load: number[];
  };
}

const MARK = '#R#';
/** bulk_identify bodies naming PEOPLE distinct people, round-robin. */
function roundRobin(prefix: string): () => string {
  const template = JSON.stringify({
    identities: Array.from({ length: BATCH }, (_, i) => identity(`${prefix}${MARK}`, i)),
  });
  let serial = 0;
  return () => template.replaceAll(MARK, String(serial++ % (PEOPLE / BATCH)));
}

async function hammer(proc: Proc, seconds: number, body: () => string) {
  const r = await autocannon({
    url: proc.url,
    connections: 10,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/api/v2/admin/bulk_identify',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
        setupRequest: (req: any) => ({ ...req, body: body() }),
      },
    ],
  });
  return {
    identities_per_s: Math.round((r['2xx'] * BATCH) / r.duration),
    p99_ms: r.latency.p99,
    non_2xx: r.non2xx,
  };
}

/** Seconds until the collector's apply queue is empty. */
async function drained(proc: Proc): Promise<number> {
  const t = performance.now();
  for (;;) {
    const s = await fetch(proc.url + '/api/v2/admin/stats', { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const depth = ((await s.json()) as { queue: { depth: number } }).queue.depth;
    if (depth === 0) return +((performance.now() - t) / 1000).toFixed(2);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const load = () => loadavg().map((l) => +l.toFixed(2));

/** `root`: another checkout of Parley to run instead (a before/after comparison, BENCH_BEFORE in run.ts). */
export async function embeddedAck(seconds: number, root = ROOT): Promise<EmbeddedResult['ack']> {
  const bare = await startBare();
  let bareAck: EmbeddedAck;
  try {
    await hammer(bare, 1, roundRobin('bw'));
    bareAck = { server: 'bare', ...(await hammer(bare, seconds, roundRobin('b'))) };
  } finally {
    await bare.stop();
  }
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-emb-'));
  const parley = await startCollector(dir, {}, [], root);
  try {
    await hammer(parley, 1, roundRobin('pw'));
    const cpu0 = parley.cpuSeconds();
    const rss = sampleRss(parley);
    const r = await hammer(parley, seconds, roundRobin('p'));
    const applied = await drained(parley);
    const cpu = parley.cpuSeconds() - cpu0;
    rss.stop();
    return {
      bare: bareAck,
      parley: {
        server: 'parley',
        ...r,
        rss_after_mb: Math.round(parley.rssMb()),
        applied_s_after_load: applied,
        cpu_us_per_identity: +((cpu * 1e6) / (r.identities_per_s * seconds)).toFixed(1),
      },
      ratio_of_bare: +(r.identities_per_s / bareAck.identities_per_s).toFixed(3),
      load: load(),
    };
  } finally {
    await parley.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function embeddedCheckpoint(seconds: number): Promise<EmbeddedResult['checkpoint']> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-embck-'));
  try {
    // Seeded and checkpointed as one delta: the collector's first checkpoint merges it into a
    // base, rewriting all 200k records, and the timer (1 s) puts it inside the load.
    const store = await seedStore(dir, { users: 100_000, pending: 100_000 });
    await checkpoint(store, 0);
    const t = performance.now();
    const parley = await startCollector(dir, { PARLEY_CHECKPOINT_MS: '1000' });
    const open_ms = Math.round(performance.now() - t);
    try {
      // A merge writes base chunks (`users.<gen>.<n>.json`, through a temp file): seen during
      // the load, the checkpoint ran inside it.
      let merging = false;
      const watcher = watch(join(dir, 'store'), (_e, name) => {
        if (name && /^\.?(users|external_users|pending)\.\d+\.\d+\.json/.test(name)) merging = true;
      });
      const r = await hammer(parley, seconds, roundRobin('c'));
      watcher.close();
      await drained(parley);
      return {
        store: '100k visible + 100k pending',
        p99_ms: r.p99_ms,
        identities_per_s: r.identities_per_s,
        merged_during_load: merging,
        open_ms,
        load: load(),
      };
    } finally {
      await parley.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** In a child: `seed N dir` fills and checkpoints a store; `open dir` times opening it. */
function child(args: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const c = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(ROOT, 'test/bench/embedded.ts'), ...args],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop()!))
        : reject(new Error(`embedded ${args[0]}: ${code}`)),
    );
  });
}

export async function embeddedMillion(n: number): Promise<EmbeddedResult['million']> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-em1m-'));
  try {
    const seeded = await child(['seed', String(n), dir]);
    const opened = await child(['open', dir]);
    return {
      identities: n,
      rss_per_identity_b: seeded.rss_per_identity_b,
      heap_per_identity_b: seeded.heap_per_identity_b,
      rss_mb: opened.rss_mb,
      open_ms: opened.open_ms,
      open_cpu_ms: opened.open_cpu_ms,
      load: load(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [cmd, a, b] = process.argv.slice(2);
  const rss = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return Number(m![1]) * 1024;
  };
  if (cmd === 'seed') {
    const n = Number(a);
    const settle = () => {
      (globalThis as { gc?: () => void }).gc?.();
      return rss();
    };
    const heap = () => process.memoryUsage().heapUsed;
    const store = await seedStore(b, { users: 0, pending: 0 });
    const before = settle();
    const heapBefore = heap();
    const now = Date.now();
    for (let i = 0; i < n; i++)
      await applyIdentity(
        store,
        SITE,
        { message_id: `pend-${i}`, version: [RANK.admin, now, String(i), ''], identity: seedIdentity('pend', i) },
        now,
      );
    const after = settle();
    const heapAfter = heap();
    await checkpoint(store, 1);
    process.stdout.write(
      JSON.stringify({
        rss_per_identity_b: Math.round((after - before) / n),
        heap_per_identity_b: Math.round((heapAfter - heapBefore) / n),
      }) + '\n',
    );
  } else if (cmd === 'open') {
    const t = performance.now();
    const cpu = process.cpuUsage();
    const store = await LowdbStore.open(join(a, 'store'));
    const open_ms = Math.round(performance.now() - t);
    const used = process.cpuUsage(cpu);
    const open_cpu_ms = Math.round((used.user + used.system) / 1000);
    process.stdout.write(
      JSON.stringify({
        open_ms,
        open_cpu_ms,
        rss_mb: Math.round(rss() / 1e6),
        pending: (await store.counts('demo')).pending_identities,
      }) + '\n',
    );
  }
}
