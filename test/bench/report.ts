/**
 * Prints test/bench/results.json as the Markdown tables of docs/PERFORMANCE.md:
 * `npx tsx test/bench/report.ts`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../server/paths.ts';

const r = JSON.parse(readFileSync(join(ROOT, 'test/bench/results.json'), 'utf8'));

function table(rows: Record<string, unknown>[]): string {
  if (!rows.length) return '';
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => (typeof v === 'number' ? v.toLocaleString('en-US') : String(v));
  return [
    `| ${cols.join(' | ')} |`,
    `|${cols.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${cols.map((c) => cell(row[c])).join(' | ')} |`),
  ].join('\n');
}

const m = r.machine;
console.log(
  `Run of ${r.date}: ${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB, Node ${m.node}, ${m.platform}; load average ${m.load_average_at_start.join(' / ')} at start, ${m.load_average_at_end.join(' / ')} at end; ${r.duration_s} s.\n`,
);
if (r.ack) {
  console.log('### Acknowledgement throughput\n');
  console.log(
    table(
      r.ack.map((a: any) => ({
        scenario: a.scenario,
        server: a.server,
        'identities/s': a.identities_per_s,
        'of bare': `${(a.ratio_of_bare * 100).toFixed(1)}%`,
        'p50 ms': a.p50_ms,
        'p99 ms': a.p99_ms,
        'non-2xx': a.non_2xx,
        'server CPU µs/identity': a.cpu_us_per_identity,
        'peak RSS MB': a.rss_peak_mb,
      })),
    ) + '\n',
  );
}
if (r.apply) {
  console.log('### Apply lag\n');
  console.log(
    table(
      r.apply.map((a: any) => ({
        'stored users': a.store_users,
        burst: a.burst,
        'acknowledged in s': a.ack_s,
        'applied after last 202, s': a.lag_after_ack_s,
        'total s': a.total_s,
        'identities/s end to end': a.applied_per_s,
        '503 retries': a.retries_503,
        'peak RSS MB': a.rss_peak_mb,
        'RSS after MB': a.rss_after_mb,
      })),
    ) + '\n',
  );
}
if (r.backpressure) {
  const b = r.backpressure;
  console.log('### Back-pressure\n');
  console.log(
    table([
      {
        PARLEY_MAX_QUEUE: b.max_queue,
        '202': b.accepted_202,
        '503': b.refused_503,
        other: b.other,
        'Retry-After on 503': b.retry_after_seen ? 'yes' : 'no',
        'largest queue depth seen': b.max_depth_seen,
        'peak RSS MB': b.rss_peak_mb,
      },
    ]) + '\n',
  );
}
if (r.growth) {
  console.log('### Store growth\n');
  console.log(
    table(
      r.growth.map((g: any) => ({
        shape: g.shape,
        records: g.records,
        'full checkpoint ms': g.full_checkpoint_ms,
        'checkpoint after one change ms': g.one_change_checkpoint_ms,
        'on disk MB': g.disk_mb,
        'open (restart) ms': g.open_ms,
        'RSS MB': g.rss_mb,
      })),
    ) + '\n',
  );
}
if (r.widget) {
  const w = r.widget;
  console.log('### Widget\n');
  console.log(
    table(
      Object.entries(w.sizes).map(([file, s]: [string, any]) => ({ file, raw: s.raw, gzip: s.gzip, brotli: s.brotli })),
    ) + '\n',
  );
  console.log(
    table(
      w.libs.map((l: any) => ({
        library: l.lib,
        'gzip bytes loaded': l.loaded_gzip_bytes,
        'main-thread ms (median of 5)': l.main_thread_ms,
        'requests in 3 s': l.requests,
      })),
    ) + '\n',
  );
  console.log(
    table([
      {
        'widget.js until idle, ms': w.widget_js_at_load_ms ?? '—',
        'widget.js in 3 s, ms': w.widget_js_main_thread_ms,
        'without Temporal: until idle / in 3 s, ms': `${w.widget_js_no_temporal_at_load_ms ?? '—'} / ${w.widget_js_no_temporal_ms ?? '—'}`,
        'first Intl call, ms': w.intl_first_call_ms,
        'requests for 100 identical identifies': w.requests_100_identical,
        'requests for 10 people in 1 s': `${w.requests_10_changed} (${w.items_10_changed} items)`,
        'requests for 10 changes of one person in 1 s': w.requests_10_updates_one_user,
      },
    ]) + '\n',
  );
}
if (r.pg) {
  const p = r.pg;
  console.log(
    `### PostgreSQL\n\nRun of ${p.date} (checkout ${p.commit}, PostgreSQL ${p.postgres}); load average ${p.load_average.start.join(' / ')} at start, ${p.load_average.end.join(' / ')} at end; ${p.duration_s} s.\n`,
  );
  console.log(
    table(
      p.ack.map((a: any) => ({
        collectors: a.collectors,
        connections: a.connections,
        'identities/s': a.identities_per_s,
        'p50 ms': a.p50_ms,
        'p99 ms': a.p99_ms,
        'non-2xx': a.non_2xx,
        'applied after last 202, s': a.drain_measured
          ? a.applied_after_last_202_s
          : `≈${a.applied_after_last_202_s} (projected)`,
        'applied identities/s': a.apply_ids_per_s,
        committed: a.committed,
        stored: a.stored,
        lost: a.lost,
        'collector CPU µs/identity': a.collector_cpu_us_per_id,
        'PostgreSQL CPU µs/identity': a.postgres_cpu_us_per_id,
      })),
    ) + '\n',
  );
  const s = p.seed;
  console.log(
    `${s.users.toLocaleString('en-US')} users, ${s.external_users.toLocaleString('en-US')} external users, ${s.accounts.toLocaleString('en-US')} accounts seeded in ${s.total_s} s (${s.size_mb} MB; ${Math.round(s.all_visible * 100)}% of the users table's pages all-visible after VACUUM).\n`,
  );
  console.log(
    table(
      p.listings.map((l: any) => ({
        call: l.call,
        calls: l.calls,
        'p50 ms': l.p50_ms,
        'p95 ms': l.p95_ms,
        records: l.records ?? '',
        'collector CPU ms/call': l.collector_cpu_ms,
        'PostgreSQL CPU ms/call': l.postgres_cpu_ms,
      })),
    ) + '\n',
  );
  if (p.cursor_note) console.log(`${p.cursor_note}\n`);
}
console.log('### Targets\n');
console.log(table(r.targets.map((t: any) => ({ target: t.target, measured: t.value, met: t.met ? 'yes' : '**no**' }))));
