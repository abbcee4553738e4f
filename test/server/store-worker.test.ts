/**
 * The embedded engine's store worker (README, Limits of the embedded store): the Store port over
 * messages behaves like the store itself (the conformance suite, through the worker), and a
 * worker that dies alone under load loses nothing acknowledged — the collector stops non-zero
 * and the next start applies everything from its checkpoint and the durable log.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LowdbStore } from '../../server/engines/embedded/lowdb-store.ts';
import { StoreWorker } from '../../server/engines/embedded/worker-store.ts';
import { startCollector } from '../helpers/collector.ts';
import { processScratch, spawnCollector } from '../helpers/process.ts';
import { storeConformance } from '../store/conformance.ts';

const { tempDir, procs } = processScratch('parley-worker-');

// The clock stands at 0, as in the lowdb conformance run: no remembered message id expires.
storeConformance('store worker', async () => {
  const dir = tempDir();
  const worker = await StoreWorker.start(dir, 0, (err) => {
    throw err;
  });
  return { store: worker.store, close: () => worker.close() };
});

describe('the store worker behind a collector', () => {
  it('answers feedback 201 with its author listed, behind 4,000 identities handed over just before', async () => {
    const c = await startCollector();
    try {
      const bulk = (b: number) =>
        c.send('POST', '/bulk_identify', {
          identities: Array.from({ length: 100 }, (_, i) => ({ id: `q-${b}-${i}`, email: `q-${b}-${i}@x.test` })),
        });
      // Acknowledged (perhaps not all applied yet): the feedback below is handed over after them.
      const acks = await Promise.all(Array.from({ length: 40 }, (_, b) => bulk(b)));
      expect(acks.every((r) => r.status === 202)).toBe(true);
      const res = await fetch(`${c.url}/api/widget/v1/demo/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin: c.url },
        body: JSON.stringify({
          message_id: 'worker-fb-1',
          kind: 'idea',
          title: 'Now',
          identity: { id: 'fb-now', email: 'fbnow@x.test' },
        }),
      });
      expect(res.status).toBe(201);
      const listed = await c.admin('/users?q=fbnow@x.test');
      expect(listed.users.map((u: { email: string }) => u.email)).toEqual(['fbnow@x.test']);
      await c.collector.intake.drained();
      expect((await c.admin('/stats')).pending_identities).toBe(4000);
    } finally {
      await c.stop();
    }
  }, 60_000);
});

const ADMIN = 'store-worker-admin-key-0001';

describe('a store worker that dies alone', () => {
  it('stops the collector non-zero, and the next start has every acknowledged identity', async () => {
    const dir = tempDir();
    // Checkpoints every 100 ms, so the worker dies with checkpoints behind it and the log trimmed.
    const env = { PARLEY_DATA_DIR: dir, PARLEY_DEMO_ADMIN_KEY: ADMIN, PARLEY_CHECKPOINT_MS: '100' };
    const first = spawnCollector({ ...env, PARLEY_TEST_WORKER_EXIT_AFTER: '150' });
    procs.push(first.child);
    const url = await first.ready;
    const acked = new Set<string>();
    let stopped = false;
    void first.exited.then(() => (stopped = true));
    const send = async (b: number) => {
      const identities = Array.from({ length: 100 }, (_, i) => ({ id: `k-${b}-${i}`, email: `k-${b}-${i}@x.test` }));
      try {
        const r = await fetch(url + '/api/v2/admin/bulk_identify', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
          body: JSON.stringify({ identities }),
        });
        if (r.status === 202) for (const i of identities) acked.add(i.id);
      } catch {
        // The process stopped under this request: it was never acknowledged.
      }
    };
    // Ten connections' worth of batches until the process stops (bounded, in case it never does).
    for (let b = 0; !stopped && b < 2000; b += 10) await Promise.all(Array.from({ length: 10 }, (_, i) => send(b + i)));
    expect(await first.exited).toBe(70);
    expect(acked.size).toBeGreaterThan(0);

    const second = spawnCollector(env);
    procs.push(second.child);
    const url2 = await second.ready;
    const stats = await (
      await fetch(url2 + '/api/v2/admin/stats', { headers: { authorization: `Bearer ${ADMIN}` } })
    ).json();
    expect(stats.queue.depth).toBe(0);
    expect(stats.pending_identities).toBeGreaterThanOrEqual(acked.size);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // Nothing acknowledged is missing: each one, looked up in the store the clean stop wrote.
    const store = await LowdbStore.open(join(dir, 'store'));
    const missing: string[] = [];
    for (const id of acked) if (!(await store.getPending('demo', id))) missing.push(id);
    expect(missing).toEqual([]);
  }, 120_000);
});
