/**
 * Acknowledgement throughput (issue 7, item 1): autocannon on loopback, 10 connections, each
 * scenario against the Parley collector and, in the same run, against the bare node:http +
 * JSON.parse server (bare-server.mjs), the limit of this machine. Only 202s count as
 * acknowledged; anything else (503 back-pressure included) is reported separately.
 */
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bulkBodies, widgetBodies } from './payloads.ts';
import { ADMIN_KEY, sampleRss, startBare, startCollector, type Proc } from './proc.ts';

export interface Scenario {
  name: string;
  route: 'admin' | 'widget';
  batch: number;
}

export const SCENARIOS: Scenario[] = [
  { name: 'bulk_identify ×10', route: 'admin', batch: 10 },
  { name: 'bulk_identify ×100', route: 'admin', batch: 100 },
  { name: 'bulk_identify ×1000', route: 'admin', batch: 1000 },
  { name: 'widget identify ×20', route: 'widget', batch: 20 },
];

export interface AckResult {
  scenario: string;
  server: 'parley' | 'bare';
  identities_per_s: number;
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  non_2xx: number;
  errors: number;
  /** Server CPU time per acknowledged identity: robust to other load on the machine. */
  cpu_us_per_identity: number;
  rss_peak_mb: number;
}

function path(s: Scenario) {
  return s.route === 'admin' ? '/api/v2/admin/bulk_identify' : '/api/widget/v1/demo/identify';
}

async function load(proc: Proc, s: Scenario, seconds: number, prefix: string) {
  const next = s.route === 'admin' ? bulkBodies(s.batch, prefix) : widgetBodies(s.batch, prefix);
  const headers: Record<string, string> =
    s.route === 'admin'
      ? { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` }
      : { 'content-type': 'text/plain;charset=UTF-8' };
  const rss = sampleRss(proc);
  const cpu0 = proc.cpuSeconds();
  const r = await autocannon({
    url: proc.url,
    connections: 10,
    duration: seconds,
    requests: [{ method: 'POST', path: path(s), headers, setupRequest: (req: any) => ({ ...req, body: next() }) }],
  });
  return { r, rss: rss.stop(), cpu: proc.cpuSeconds() - cpu0 };
}

/** Runs one scenario against one server (warm-up first, not counted). */
async function measure(
  proc: Proc,
  server: 'parley' | 'bare',
  s: Scenario,
  seconds: number,
  tag: string,
): Promise<AckResult> {
  await load(proc, s, 1, `${tag}w`);
  const { r, rss, cpu } = await load(proc, s, seconds, tag);
  const ok = r['2xx'];
  return {
    scenario: s.name,
    server,
    identities_per_s: Math.round((ok * s.batch) / r.duration),
    requests_per_s: Math.round(ok / r.duration),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    non_2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    cpu_us_per_identity: ok > 0 ? +((cpu * 1e6) / (ok * s.batch)).toFixed(1) : NaN,
    rss_peak_mb: Math.round(rss.peak),
  };
}

/**
 * Every scenario against the bare server and a fresh collector, back to back, so that both
 * figures of a ratio are measured under the same machine load.
 */
export async function ackBench(
  opts: { seconds?: number; scenarios?: Scenario[]; env?: Record<string, string> } = {},
): Promise<AckResult[]> {
  const seconds = opts.seconds ?? 8;
  const out: AckResult[] = [];
  const bare = await startBare();
  try {
    for (const s of opts.scenarios ?? SCENARIOS) {
      out.push(await measure(bare, 'bare', s, seconds, `x${s.batch}`));
      // A fresh collector per scenario, so one scenario's apply backlog never slows the next.
      const dir = mkdtempSync(join(tmpdir(), 'parley-bench-ack-'));
      const parley = await startCollector(dir, opts.env);
      try {
        out.push(await measure(parley, 'parley', s, seconds, `p${s.batch}`));
      } finally {
        await parley.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await bare.stop();
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = Number(process.env.BENCH_SECONDS ?? 8);
  const only = process.env.BENCH_ONLY;
  const rows = await ackBench({
    seconds,
    scenarios: only ? SCENARIOS.filter((s) => s.name.includes(only)) : SCENARIOS,
  });
  console.table(rows);
}
