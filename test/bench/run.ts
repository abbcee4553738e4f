/**
 * `npm run bench`: every benchmark of issue 7 in one run, a table on stdout and the figures
 * in test/bench/results.json. Loopback only; every process it starts is stopped at the end.
 * Figures drift between runs on a shared machine (docs/DESIGN.md#measured-facts: ±25 %), so each ratio is of two
 * figures measured back to back, and CPU per identity is reported beside throughput.
 * `BENCH_ONLY=ack,apply,embedded-ack,embedded-checkpoint,embedded-1m,backpressure,growth,widget,geoip,pg,segments` runs a subset. `pg` (PostgreSQL, pg.ts)
 * needs DATABASE_URL and is skipped, loudly, without it:
 * `DATABASE_URL=postgres://postgres@127.0.0.1:5432/test BENCH_ONLY=pg npx tsx test/bench/run.ts`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../server/paths.ts';
import { ackBench, type AckResult } from './ack.ts';
import { applyBench, type ApplyResult } from './apply.ts';
import { backpressureBench, type BackpressureResult } from './backpressure.ts';
import { geoipBench, type GeoipResult } from './geoip.ts';
import { growthBench, type GrowthResult } from './growth.ts';
import { embeddedAck, embeddedCheckpoint, embeddedMillion, type EmbeddedResult } from './embedded.ts';
import type { PgResult } from './pg.ts';
import { segmentsBench, type SegmentsResult } from './segments.ts';
import { widgetBench, type WidgetResult } from './widget-cost.ts';

const ALL_STEPS = 'ack,apply,embedded-ack,embedded-checkpoint,embedded-1m,backpressure,growth,widget,geoip,pg,segments';
const only = new Set((process.env.BENCH_ONLY ?? ALL_STEPS).split(','));
const started = Date.now();
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memory_gb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  load_average_at_start: loadavg().map((l) => +l.toFixed(2)),
};
const results: {
  date: string;
  machine: typeof machine;
  duration_s?: number;
  ack?: (AckResult & { ratio_of_bare: number })[];
  apply?: ApplyResult[];
  backpressure?: BackpressureResult;
  growth?: GrowthResult[];
  widget?: WidgetResult;
  geoip?: GeoipResult;
  pg?: PgResult;
  pg_error?: string;
  segments?: SegmentsResult;
  embedded?: EmbeddedResult;
  targets?: { target: string; value: string; met: boolean }[];
} = { date: new Date(started).toISOString(), machine };

const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
  if (!only.has(name)) return undefined;
  const t = Date.now();
  process.stderr.write(`bench: ${name}…\n`);
  const r = await fn();
  process.stderr.write(`bench: ${name} done in ${Math.round((Date.now() - t) / 1000)} s\n`);
  return r;
};

const ack = await step('ack', () => ackBench({ seconds: Number(process.env.BENCH_SECONDS ?? 6) }));
if (ack) {
  results.ack = ack.map((r) => {
    const bare = ack.find((b) => b.server === 'bare' && b.scenario === r.scenario)!;
    return { ...r, ratio_of_bare: +(r.identities_per_s / bare.identities_per_s).toFixed(3) };
  });
}
results.apply = await step('apply', applyBench);
// Issue 13's embedded-engine figures (embedded.ts); not in the default set: they take minutes.
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const before = process.env.BENCH_BEFORE;
const embedded: EmbeddedResult = {
  ack_before: before ? await step('embedded-ack', () => embeddedAck(seconds, before)) : undefined,
  ack: await step('embedded-ack', () => embeddedAck(seconds)),
  checkpoint: await step('embedded-checkpoint', () => embeddedCheckpoint(seconds)),
  million: await step('embedded-1m', () => embeddedMillion(Number(process.env.BENCH_MILLION ?? 1_000_000))),
};
if (embedded.ack || embedded.checkpoint || embedded.million) results.embedded = embedded;
results.backpressure = await step('backpressure', backpressureBench);
results.growth = await step('growth', growthBench);
const chromium = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';
if (only.has('widget') && !existsSync(chromium)) {
  process.stderr.write(`bench: ${chromium} not found, widget cost SKIPPED (apt-get install -y chromium)\n`);
  only.delete('widget');
}
results.widget = await step('widget', widgetBench);
results.geoip = await step('geoip', geoipBench);
if (only.has('pg') && !process.env.DATABASE_URL) {
  process.stderr.write(
    '\n*** bench: DATABASE_URL is not set: the PostgreSQL figures (pg) are SKIPPED. ' +
      'DATABASE_URL=postgres://postgres@127.0.0.1:5432/test BENCH_ONLY=pg npx tsx test/bench/run.ts ***\n\n',
  );
  only.delete('pg');
}
// A broken database must not lose the other steps' figures: reported, and the run exits 1.
results.pg = await step('pg', async () => {
  const { pgBench, pgOptions } = await import('./pg.ts');
  return pgBench(pgOptions(process.env));
}).catch((err) => {
  process.stderr.write(`\n*** bench: pg FAILED: ${err?.stack ?? err} ***\n\n`);
  results.pg_error = String(err?.message ?? err);
  process.exitCode = 1;
  return undefined;
});

// Segments (issue 17): the embedded half always, the PostgreSQL half with DATABASE_URL.
results.segments = await step('segments', () => segmentsBench(process.env));

// The targets of issue 7.
const targets: { target: string; value: string; met: boolean }[] = [];
const parley100 = results.ack?.find((r) => r.server === 'parley' && r.scenario === 'bulk_identify ×100');
if (parley100) {
  targets.push({
    target: 'identities/s at batches of 100 ≥ 40% of bare parse',
    value: `${(parley100.ratio_of_bare * 100).toFixed(1)}%`,
    met: parley100.ratio_of_bare >= 0.4,
  });
  targets.push({
    target: 'p99 acknowledgement ≤ 25 ms at 10 connections (×100)',
    value: `${parley100.p99_ms} ms`,
    met: parley100.p99_ms <= 25,
  });
}
const big = results.apply?.find((r) => r.store_users === 100_000 && r.burst === 100_000);
if (big)
  targets.push({
    target: 'all applied ≤ 5 s after a 100k burst at 100k users',
    value: `${big.lag_after_ack_s} s after the last 202 (${big.total_s} s from the first request)`,
    met: big.lag_after_ack_s <= 5,
  });
const rss = [
  ...(results.ack ?? []).filter((r) => r.server === 'parley').map((r) => r.rss_peak_mb),
  ...(results.apply ?? []).map((r) => r.rss_peak_mb),
];
if (rss.length)
  targets.push({
    target: 'collector RSS ≤ 300 MB throughout',
    value: `${Math.max(...rss)} MB peak`,
    met: Math.max(...rss) <= 300,
  });
// The targets of issue 14 (PostgreSQL applies as fast as it acknowledges), from the bursts.
const burstOf = (kind: string, n: number) => results.pg?.bursts?.find((b) => b.kind === kind && b.collectors === n);
const [new1, new2] = [burstOf('new', 1), burstOf('new', 2)];
if (new1) {
  targets.push({
    target: 'PostgreSQL: one collector applies ≥ 10,000 new identities/s',
    value: `${new1.applied_per_s}/s (load ${new1.load_after} after)`,
    met: new1.applied_per_s >= 10_000,
  });
  if (new2)
    targets.push({
      target: 'PostgreSQL: two collectors apply ≥ 1.6× one',
      value: `${(new2.applied_per_s / new1.applied_per_s).toFixed(2)}× (${new2.applied_per_s}/s)`,
      met: new2.applied_per_s >= 1.6 * new1.applied_per_s,
    });
  const bursts = results.pg!.bursts;
  targets.push({
    target: 'PostgreSQL: acknowledged == applied, 0 lost, 0 twice',
    value: bursts.map((b) => `${b.kind}×${b.collectors}: ${b.lost} lost, ${b.extra_people} extra`).join('; '),
    met: bursts.every((b) => b.lost === 0 && b.extra_people === 0),
  });
}
if (results.widget) {
  const w = results.widget;
  const gz = w.sizes['widget.js'].gzip;
  targets.push({
    target: 'widget.js ≤ 5 KB gzip',
    value: `${gz} B (widget.debug.js ${w.sizes['widget.debug.js'].gzip} B)`,
    met: gz <= 5120,
  });
  targets.push({
    target: 'widget.js main-thread at page load ≤ 5 ms',
    value:
      `${w.widget_js_at_load_ms} ms until the page is idle, ${w.widget_js_main_thread_ms} ms in its first 3 s; ` +
      `without Temporal ${w.widget_js_no_temporal_at_load_ms} / ${w.widget_js_no_temporal_ms} ms ` +
      `(a first Intl call alone: ${w.intl_first_call_ms} ms)`,
    met: w.widget_js_at_load_ms <= 5,
  });
}
if (results.geoip) {
  const g = results.geoip;
  targets.push({
    // Express alone adds ~300 µs to a request (docs/DESIGN.md#measured-facts): 10 µs is ≤ 3 % of that.
    target: 'location lookup ≤ 10 µs per request',
    value: `${g.lookup_us_new_address} µs (new address), ${g.lookup_us_same_address} µs (repeated); bare JSON.parse of a one-identity body ${g.bare_parse_us_per_request} µs`,
    met: g.lookup_us_new_address <= 10,
  });
}
// Issue 17's targets: the slowest filtered feedback page per engine, and on PostgreSQL the
// slowest idea ranking too.
for (const [engine, limit, asked] of [
  ['embedded (memory)', 100, /^feedback page:/],
  ['postgres', 300, /^(feedback page|ideas ranking):/],
] as const) {
  const rows = (results.segments?.timings ?? []).filter((t) => t.engine === engine && asked.test(t.question));
  if (rows.length === 0) continue;
  const worst = Math.max(...rows.map((t) => t.median_ms));
  targets.push({
    target: `${engine}: filtered ${engine === 'postgres' ? 'feedback page or idea ranking' : 'feedback page'} ≤ ${limit} ms at ${rows[0].users} users / ${rows[0].feedback} feedback`,
    value: `${worst} ms (slowest of ${rows.length})`,
    met: worst <= limit,
  });
}
const e = results.embedded;
if (e?.ack) {
  targets.push({
    target: 'embedded: acks/s ≥ 0.3× bare parse (×100, 20k people round-robin)',
    value: `${e.ack.ratio_of_bare}× (${e.ack.parley.identities_per_s} vs bare ${e.ack.bare.identities_per_s} ids/s)`,
    met: e.ack.ratio_of_bare >= 0.3,
  });
  targets.push({
    target: 'embedded: p99 ≤ 25 ms at 10 connections',
    value: `${e.ack.parley.p99_ms} ms (bare ${e.ack.bare.p99_ms} ms)`,
    met: e.ack.parley.p99_ms <= 25,
  });
  targets.push({
    target: 'embedded: RSS ≤ 300 MB after the load, all applied ≤ 10 s after it',
    value: `${e.ack.parley.rss_after_mb} MB, applied ${e.ack.parley.applied_s_after_load} s after`,
    met: e.ack.parley.rss_after_mb! <= 300 && e.ack.parley.applied_s_after_load! <= 10,
  });
}
if (e?.checkpoint)
  targets.push({
    target: 'embedded: p99 ≤ 25 ms while a checkpoint of 100k visible + 100k pending runs',
    value: `${e.checkpoint.p99_ms} ms (merge during load: ${e.checkpoint.merged_during_load})`,
    met: e.checkpoint.p99_ms <= 25 && e.checkpoint.merged_during_load,
  });
if (e?.million)
  targets.push({
    target: 'embedded: ≤ 500 B RSS per pending identity at 1M; time to open',
    value: `${e.million.rss_per_identity_b} B; open ${e.million.open_ms} ms wall, ${e.million.open_cpu_ms} ms CPU`,
    met: e.million.rss_per_identity_b <= 500,
  });
results.targets = targets;
results.duration_s = Math.round((Date.now() - started) / 1000);
machine.load_average_at_start = machine.load_average_at_start;
(results.machine as Record<string, unknown>).load_average_at_end = loadavg().map((l) => +l.toFixed(2));

if (results.ack) {
  console.log('\nAcknowledgement throughput (autocannon, 10 connections, loopback)');
  console.table(
    results.ack.map(
      ({
        scenario,
        server,
        identities_per_s,
        ratio_of_bare,
        p50_ms,
        p99_ms,
        non_2xx,
        cpu_us_per_identity,
        rss_peak_mb,
      }) => ({
        scenario,
        server,
        'ids/s': identities_per_s,
        'of bare': ratio_of_bare,
        p50_ms,
        p99_ms,
        non_2xx,
        'cpu µs/id': cpu_us_per_identity,
        rss_peak_mb,
      }),
    ),
  );
}
if (results.apply) {
  console.log('\nApply lag after a burst (bulk_identify ×1000, 4 senders)');
  console.table(results.apply);
}
if (results.backpressure) {
  console.log('\nBack-pressure (PARLEY_MAX_QUEUE=1000, bulk_identify ×1000, 10 connections, 6 s)');
  console.table([results.backpressure]);
}
if (results.growth) {
  console.log('\nStore growth (lowdb checkpoint)');
  console.table(results.growth);
}
if (results.widget) {
  console.log('\nWidget cost (headless Chromium)');
  console.table(Object.entries(results.widget.sizes).map(([file, s]) => ({ file, ...s })));
  console.table(results.widget.libs.map(({ main_thread_ms_runs: _r, ...l }) => l));
  const { sizes: _s, libs: _l, measured_at: _m, load_average: load, ...rest } = results.widget;
  console.table([rest]);
  console.log(`load average ${load.start.join(' / ')} at the start, ${load.end.join(' / ')} at the end`);
}
if (results.geoip) {
  const { load_average: load, ...g } = results.geoip;
  console.log('\nLocation lookup (shipped country database, in process, 200,000 lookups)');
  console.table([g]);
  console.log(`load average ${load.join(' / ')}`);
}
if (results.segments) {
  console.log('\nSegments (issue 17): medians, ms; a feedback page counts its total and the segment totals');
  console.table(results.segments.timings);
  if (results.segments.pg_indexes) console.log(`PostgreSQL indexes: ${results.segments.pg_indexes.join('; ')}`);
}
if (results.pg) {
  const p = results.pg;
  console.log(
    `\nPostgreSQL ${p.postgres}, checkout ${p.commit}: bulk_identify ×100, 10 connections in all, new people; apply lag = last 202 until the intake table is empty`,
  );
  console.table(
    p.ack.map((a) => ({
      collectors: a.collectors,
      connections: a.connections,
      'ids/s': a.identities_per_s,
      p50_ms: a.p50_ms,
      p99_ms: a.p99_ms,
      non_2xx: a.non_2xx,
      committed: a.committed,
      stored: a.stored,
      lost: a.lost,
      'applied after last 202, s': a.drain_measured
        ? a.applied_after_last_202_s
        : `≈${a.applied_after_last_202_s} (projected)`,
      'applied ids/s': a.apply_ids_per_s,
      'collector cpu µs/id': a.collector_cpu_us_per_id,
      'postgres cpu µs/id': a.postgres_cpu_us_per_id,
    })),
  );
  console.log(
    'PostgreSQL bursts: bulk_identify ×1000, 4 in flight per collector, applied to the end (new: never-seen people; update: seeded visible people, each updated once)',
  );
  console.table(p.bursts ?? []);
  console.log(
    `PostgreSQL listings at ${p.seed.users.toLocaleString('en-US')} users (seeded in ${p.seed.total_s} s, ${p.seed.size_mb} MB, ${Math.round(p.seed.all_visible * 100)}% of users' pages all-visible), one collector, GET over HTTP`,
  );
  console.table(p.listings);
  if (p.cursor_note) console.log(p.cursor_note);
}
if (results.embedded) {
  const e = results.embedded;
  console.log('\nEmbedded engine (issue 13): bulk_identify ×100, 10 connections, 20k people round-robin');
  for (const [label, a] of [
    ['before', e.ack_before],
    ['after', e.ack],
  ] as const)
    if (a) {
      console.log(label === 'before' ? `before: ${before}` : 'this checkout');
      console.table([{ ...a.bare }, { ...a.parley, ratio_of_bare: a.ratio_of_bare }]);
    }
  if (e.checkpoint) console.table([e.checkpoint]);
  if (e.million) console.table([e.million]);
}
console.log('\nTargets');
console.table(targets);
// A subset run replaces only the steps it ran: the others' last figures stay in the file.
const file = join(ROOT, 'test/bench/results.json');
// (Each step's figures carry what they need; the date and machine at the top stay the full run's.)
const kept = existsSync(file) && only.size < ALL_STEPS.split(',').length ? JSON.parse(readFileSync(file, 'utf8')) : {};
const ran = Object.entries(results).filter(
  ([k, v]) =>
    v !== undefined &&
    !(Array.isArray(v) && v.length === 0) &&
    !(kept.date && ['date', 'machine', 'duration_s'].includes(k)),
);
// Targets too: this run's replace those of the same name, the others' stay.
const mine = new Set(targets.map((t) => t.target));
const merged = [...(kept.targets ?? []).filter((t: { target: string }) => !mine.has(t.target)), ...targets];
// The embedded steps run one at a time too: each keeps the others' figures.
const ranObj = Object.fromEntries(ran);
if (ranObj.embedded && kept.embedded)
  ranObj.embedded = { ...kept.embedded, ...JSON.parse(JSON.stringify(ranObj.embedded)) };
writeFileSync(file, JSON.stringify({ ...kept, ...ranObj, targets: merged }, null, 2) + '\n');
console.log(`\nwrote test/bench/results.json (${results.duration_s} s)`);
