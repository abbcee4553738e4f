/**
 * Back-pressure: with a small apply queue (PARLEY_MAX_QUEUE=1000), 10 connections sending
 * bulk_identify ×1000 for 6 s must get 503s with Retry-After instead of growing the queue,
 * and the collector's RSS must stay flat. Verifies the bound, not a speed.
 */
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bulkBodies } from './payloads.ts';
import { ADMIN_KEY, sampleRss, startCollector } from './proc.ts';

export interface BackpressureResult {
  max_queue: number;
  accepted_202: number;
  refused_503: number;
  other: number;
  retry_after_seen: boolean;
  max_depth_seen: number;
  rss_peak_mb: number;
}

export async function backpressureBench(): Promise<BackpressureResult> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-bp-'));
  const p = await startCollector(dir, { PARLEY_MAX_QUEUE: '1000' });
  try {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` };
    let maxDepth = 0;
    const poll = setInterval(async () => {
      try {
        const s = (await (await fetch(`${p.url}/healthz`)).json()) as { queue: { depth: number } };
        maxDepth = Math.max(maxDepth, s.queue.depth);
      } catch {
        /* the poll is best effort */
      }
    }, 50);
    const rss = sampleRss(p, 50);
    const next = bulkBodies(1000, 'bp');
    let retryAfter = false;
    const r = await autocannon({
      url: p.url,
      connections: 10,
      duration: 6,
      requests: [
        {
          method: 'POST',
          path: '/api/v2/admin/bulk_identify',
          headers,
          setupRequest: (req: any) => ({ ...req, body: next() }),
          onResponse: (status: number, _body: string, _ctx: unknown, resHeaders: Record<string, string>) => {
            if (status === 503 && Object.keys(resHeaders ?? {}).some((h) => h.toLowerCase() === 'retry-after'))
              retryAfter = true;
          },
        },
      ],
    });
    clearInterval(poll);
    const codes = r.statusCodeStats as Record<string, { count: number }>;
    return {
      max_queue: 1000,
      accepted_202: codes['202']?.count ?? 0,
      refused_503: codes['503']?.count ?? 0,
      other: Object.entries(codes)
        .filter(([c]) => c !== '202' && c !== '503')
        .reduce((s, [, v]) => s + v.count, 0),
      retry_after_seen: retryAfter,
      max_depth_seen: maxDepth,
      rss_peak_mb: Math.round(rss.stop().peak),
    };
  } finally {
    await p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await backpressureBench());
