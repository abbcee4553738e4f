/**
 * Store growth (issue 7, item 3): the time of one checkpoint of the embedded (lowdb) store and
 * its size on disk, at 10k, 100k and 1M records. Each case runs in its own process so that its
 * memory is measured alone and freed after. Two shapes:
 *   - `visible`: N visible users, each with an external user;
 *   - `pending`: N pending identities.
 * The first checkpoint writes the store as one delta (in parts); `one_change_checkpoint_ms` is
 * a checkpoint after one more identity: a delta of that one record (lowdb-store.ts).
 * Also the time to open the store again (what a restart costs before it can serve).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyIdentity } from '../../server/core/identify.ts';
import { RANK } from '../../server/core/merge.ts';
import { ROOT } from '../../server/paths.ts';
import { LowdbStore } from '../../server/engines/embedded/lowdb-store.ts';
import { checkpoint, SITE, seedIdentity, seedStore } from './seed.ts';

type Shape = 'visible' | 'pending';

export interface GrowthResult {
  shape: Shape;
  records: number;
  full_checkpoint_ms: number;
  /** A checkpoint after one more identity: only the files it touched are written. */
  one_change_checkpoint_ms: number;
  disk_mb: number;
  open_ms: number;
  rss_mb: number;
}

function diskMb(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) bytes += statSync(join(dir, name)).size;
  return +(bytes / 1e6).toFixed(1);
}

/** One case, in this process. */
async function runCase(shape: Shape, n: number): Promise<GrowthResult> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-growth-'));
  try {
    const store = await seedStore(dir, shape === 'visible' ? { users: n, pending: 0 } : { users: 0, pending: n });
    const full = await checkpoint(store, 1);
    const rss = process.memoryUsage().rss / 1e6;
    // One more identity of the same shape: an existing user's update, or a new pending one.
    const id = shape === 'visible' ? seedIdentity('seed', 0) : seedIdentity('pend', 0);
    await applyIdentity(
      store,
      SITE,
      { message_id: 'one-more', version: [RANK.admin, Date.now() + 1, 'x'], identity: { ...id, name: 'Changed' } },
      Date.now(),
    );
    const one = await checkpoint(store, 2);
    const t = performance.now();
    await LowdbStore.open(join(dir, 'store'));
    const open = performance.now() - t;
    return {
      shape,
      records: n,
      full_checkpoint_ms: Math.round(full),
      one_change_checkpoint_ms: Math.round(one),
      disk_mb: diskMb(join(dir, 'store')),
      open_ms: Math.round(open),
      rss_mb: Math.round(rss),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One case in a child process. */
function inChild(shape: string, n: number): Promise<GrowthResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/bench/growth.ts'), shape, String(n)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop()!))
        : reject(new Error(`growth ${shape} ${n} exited ${code}`)),
    );
  });
}

export const CASES: [Shape, number][] = [
  ['visible', 10_000],
  ['visible', 100_000],
  ['pending', 10_000],
  ['pending', 100_000],
];

export async function growthBench(cases = CASES): Promise<GrowthResult[]> {
  const out: GrowthResult[] = [];
  for (const [shape, n] of cases) out.push(await inChild(shape, n));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [shape, n] = process.argv.slice(2);
  if (shape) process.stdout.write(JSON.stringify(await runCase(shape as Shape, Number(n))) + '\n');
  else console.table(await growthBench());
}
