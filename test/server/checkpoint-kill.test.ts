/**
 * SIGKILL while a checkpoint of the delta format is being written (README, Limits of the
 * embedded store): the collector runs on a real data directory with a checkpoint every 100 ms
 * under a steady stream of identities, and is killed the moment a checkpoint file appears
 * half-written (its temp file, seen through fs.watch). Each restart must hold every identity
 * acknowledged before it, over several rounds, so kills land in deltas and in merges alike.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { spawnCollector } from '../helpers/process.ts';

const ADMIN = 'checkpoint-kill-admin-key-01';
const dir = mkdtempSync(join(tmpdir(), 'parley-ckill-'));
const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function start() {
  const p = spawnCollector({
    PARLEY_DATA_DIR: dir,
    PARLEY_DEMO_ADMIN_KEY: ADMIN,
    PARLEY_CHECKPOINT_MS: '100',
    PARLEY_RATE_LIMIT: 'off',
  });
  procs.push(p.child);
  return p;
}

const bulk = (url: string, identities: unknown[]) =>
  fetch(url + '/api/v2/admin/bulk_identify', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify({ identities }),
  });
const pendingCount = async (url: string) =>
  (await fetch(url + '/api/v2/admin/stats', { headers: { authorization: `Bearer ${ADMIN}` } }).then((r) => r.json()))
    .pending_identities as number;

it('loses nothing acknowledged when killed in the middle of writing a checkpoint', async () => {
  let acked = 0;
  let sent = 0;
  for (let round = 0; round < 4; round++) {
    const p = start();
    const url = await p.ready;
    // Every identity acknowledged so far (and perhaps some logged whose 202 the kill cut off).
    const stored = await pendingCount(url);
    expect(stored).toBeGreaterThanOrEqual(acked);
    expect(stored).toBeLessThanOrEqual(sent);
    let killed = false;
    let checkpointsSeen = 0;
    const kill = new Promise<void>((resolve) => {
      const watcher = watch(join(dir, 'store'), (_event, name) => {
        // A temp file is a checkpoint file being written; kill once a few checkpoints went by.
        if (!name?.endsWith('.tmp') || ++checkpointsSeen < 3 + round * 2 || killed) return;
        killed = true;
        p.child.kill('SIGKILL');
        watcher.close();
        resolve();
      });
    });
    // Batches of 200 new people, one after another, until the kill.
    const senders = [0, 1].map(async () => {
      while (!killed) {
        const identities = Array.from({ length: 200 }, (_, i) => ({
          id: `k-${sent + i}`,
          email: `k-${sent + i}@x.test`,
          name: `Person ${sent + i}`,
        }));
        sent += 200;
        const ok = await bulk(url, identities).then(
          (r) => r.status === 202,
          () => false,
        );
        if (ok) acked += 200;
      }
    });
    await kill;
    await Promise.all(senders);
    expect(await p.exited).toBeNull();
  }
  const last = start();
  const url = await last.ready;
  // Everything acknowledged, and nothing that was not sent (identities that reached the log
  // without their 202 may be there too).
  const n = await pendingCount(url);
  expect(n).toBeGreaterThanOrEqual(acked);
  expect(n).toBeLessThanOrEqual(sent);
  last.child.kill('SIGTERM');
  expect(await last.exited).toBe(0);
}, 120_000);
