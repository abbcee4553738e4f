/**
 * Apply throughput and lag (issue 7, item 2): a collector process on a store of 10k or 100k
 * visible users takes a burst of 10k or 100k identities through bulk_identify (batches of
 * 1000, 4 senders); then /stats is polled until `queue.depth` is 0. Half the burst updates
 * existing users, half is people never seen (pending). A 503 is retried after its Retry-After,
 * as a client should. RSS is sampled throughout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identity } from './payloads.ts';
import { ADMIN_KEY, sampleRss, startCollector, type Proc } from './proc.ts';
import { checkpoint, seedStore } from './seed.ts';

export interface ApplyResult {
  store_users: number;
  burst: number;
  /** From the first request to the last 202. */
  ack_s: number;
  /** From the last 202 until everything acknowledged was applied. */
  lag_after_ack_s: number;
  /** From the first request until everything was applied. */
  total_s: number;
  applied_per_s: number;
  retries_503: number;
  rss_peak_mb: number;
  rss_after_mb: number;
}

const BATCH = 1000;
const SENDERS = 4;
const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` };

async function stats(p: Proc) {
  const res = await fetch(`${p.url}/api/v2/admin/stats`, { headers });
  return (await res.json()) as { queue: { depth: number } };
}

async function burst(p: Proc, total: number, storeUsers: number): Promise<number> {
  let next = 0;
  let retries = 0;
  const body = (b: number) =>
    JSON.stringify({
      identities: Array.from({ length: BATCH }, (_, j) => {
        const i = b * BATCH + j;
        // Even: an existing user (when the store has that many); odd: someone new.
        return i % 2 === 0 && i / 2 < storeUsers ? identity('seed', i / 2) : identity('burst', i);
      }),
    });
  const sender = async () => {
    while (next * BATCH < total) {
      const b = next++;
      const text = body(b);
      for (;;) {
        const res = await fetch(`${p.url}/api/v2/admin/bulk_identify`, { method: 'POST', headers, body: text });
        await res.arrayBuffer();
        if (res.status === 202) break;
        if (res.status !== 503) throw new Error(`bulk_identify answered ${res.status}`);
        retries++;
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
      }
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
  return retries;
}

export async function applyOne(storeUsers: number, total: number): Promise<ApplyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-apply-'));
  try {
    await checkpoint(await seedStore(dir, { users: storeUsers, pending: 0 }));
    const p = await startCollector(dir);
    try {
      const rss = sampleRss(p, 50);
      const t0 = performance.now();
      const retries = await burst(p, total, storeUsers);
      const tAck = performance.now();
      // Polled every 100 ms: /stats counts every collection, so polling faster would slow the applier.
      while ((await stats(p)).queue.depth > 0) await new Promise((r) => setTimeout(r, 100));
      const tDone = performance.now();
      // Let the next timed checkpoint run, then read the resting RSS.
      await new Promise((r) => setTimeout(r, 6000));
      const { peak, last } = rss.stop();
      return {
        store_users: storeUsers,
        burst: total,
        ack_s: +((tAck - t0) / 1000).toFixed(2),
        lag_after_ack_s: +((tDone - tAck) / 1000).toFixed(2),
        total_s: +((tDone - t0) / 1000).toFixed(2),
        applied_per_s: Math.round(total / ((tDone - t0) / 1000)),
        retries_503: retries,
        rss_peak_mb: Math.round(peak),
        rss_after_mb: Math.round(last),
      };
    } finally {
      await p.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function applyBench(): Promise<ApplyResult[]> {
  const out: ApplyResult[] = [];
  for (const users of [10_000, 100_000]) for (const total of [10_000, 100_000]) out.push(await applyOne(users, total));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const users = process.env.USERS ? [Number(process.env.USERS)] : [10_000, 100_000];
  const bursts = process.env.BURST ? [Number(process.env.BURST)] : [10_000, 100_000];
  const rows = [];
  for (const u of users) for (const b of bursts) rows.push(await applyOne(u, b));
  console.table(rows);
}
