/**
 * The collector as an operator runs it: a real process on a real data directory. What was
 * acknowledged survives SIGKILL; one process per directory; a corrupt store stops start-up;
 * SIGTERM shuts down cleanly; a bad setting is one clear line.
 */
import { readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processScratch, spawnCollector } from '../helpers/process.ts';

const ADMIN = 'durability-admin-key-0001';
const { tempDir, procs } = processScratch('parley-dur-');

/** A collector process on `dataDir`, remembered so afterAll can kill it. */
function start(dataDir: string, env: Record<string, string> = {}) {
  const p = spawnCollector({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_DEMO_ADMIN_KEY: ADMIN,
    PARLEY_CHECKPOINT_MS: '60000',
    ...env,
  });
  procs.push(p.child);
  return p;
}

const post = (url: string, path: string, body: unknown, headers: Record<string, string>) =>
  fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const admin = (url: string, path: string) =>
  fetch(url + '/api/v2/admin' + path, { headers: { authorization: `Bearer ${ADMIN}` } }).then((r) => r.json());

describe('the collector process', () => {
  it('applies every acknowledged identity after being killed with SIGKILL right after a burst', async () => {
    const dir = tempDir();
    const first = start(dir);
    const url = await first.ready;
    const acked = new Set<string>();
    // 40 bulk batches of 50 and 40 widget batches of 5, all in flight at once.
    const requests: Promise<void>[] = [];
    for (let b = 0; b < 40; b++) {
      const identities = Array.from({ length: 50 }, (_, i) => ({
        id: `bulk-${b}-${i}`,
        email: `bulk-${b}-${i}@x.test`,
        account: { id: `acct-${b}`, mrr_cents: b },
      }));
      requests.push(
        post(url, '/api/v2/admin/bulk_identify', { identities }, { authorization: `Bearer ${ADMIN}` }).then(
          async (r) => {
            if (r.status === 202) for (const i of identities) acked.add(i.id);
          },
        ),
      );
      const widget = Array.from({ length: 5 }, (_, i) => ({
        id: `w-${b}-${i}`,
        email: `w-${b}-${i}@x.test`,
        message_id: `wm-${b}-${i}`,
        observed_at: Date.now(),
      }));
      requests.push(
        post(url, '/api/widget/v1/demo/identify', { sent_at: Date.now(), identities: widget }, {}).then(async (r) => {
          if (r.status === 202) for (const i of widget) acked.add(i.id);
        }),
      );
    }
    // Feedback promotes at once; its 201 must survive too.
    requests.push(
      post(
        url,
        '/api/widget/v1/demo/feedback',
        {
          message_id: 'kill-fb',
          kind: 'idea',
          title: 'Survive',
          identity: { id: 'bulk-0-0', email: 'bulk-0-0@x.test' },
        },
        {},
      ).then((r) => {
        expect(r.status).toBe(201);
      }),
    );
    await Promise.all(requests);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    expect(acked.size).toBe(40 * 50 + 40 * 5);

    const second = start(dir);
    const url2 = await second.ready;
    const stats = await admin(url2, '/stats');
    expect(stats.queue.depth).toBe(0);
    // Everyone acknowledged is stored: one promoted by feedback, the rest pending.
    expect(stats.pending_identities + stats.external_users).toBe(acked.size);
    expect(stats.users).toBe(1);
    const feedback = (await admin(url2, '/feedback')).feedback;
    expect(feedback.map((f: { message_id: string }) => f.message_id)).toEqual(['kill-fb']);
    expect(feedback[0].user.email).toBe('bulk-0-0@x.test');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 60_000);

  it('refuses to open a data directory another collector is using', async () => {
    const dir = tempDir();
    const first = start(dir);
    await first.ready;
    const second = start(dir);
    await expect(second.ready).rejects.toThrow(/in use by process/);
    expect(await second.exited).toBe(1);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  }, 30_000);

  it('shuts down on SIGTERM with everything checkpointed and the intake log trimmed', async () => {
    const dir = tempDir();
    const p = start(dir);
    const url = await p.ready;
    const identities = Array.from({ length: 20 }, (_, i) => ({ id: `t-${i}`, email: `t-${i}@x.test` }));
    expect(
      (await post(url, '/api/v2/admin/bulk_identify', { identities }, { authorization: `Bearer ${ADMIN}` })).status,
    ).toBe(202);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const logBytes = readdirSync(join(dir, 'intake')).reduce(
      (n, f) => n + readFileSync(join(dir, 'intake', f)).length,
      0,
    );
    expect(logBytes).toBe(0);
    const again = start(dir);
    expect((await admin(await again.ready, '/stats')).pending_identities).toBe(20);
    again.child.kill('SIGTERM');
    await again.exited;
  }, 30_000);

  it('stops start-up with a clear message when a store file is corrupt, and leaves it in place', async () => {
    const dir = tempDir();
    const p = start(dir);
    await p.ready;
    p.child.kill('SIGTERM');
    await p.exited;
    const manifest = JSON.parse(readFileSync(join(dir, 'store', 'manifest.json'), 'utf8'));
    // The demo site is the only record: in the one file the manifest names (a delta, or a base chunk).
    const named = [...Object.values(manifest.base as Record<string, string[]>).flat(), ...manifest.deltas];
    expect(named).toHaveLength(1);
    const sitesFile = join(dir, 'store', named[0]);
    writeFileSync(sitesFile, '{"truncated');
    const broken = start(dir);
    await expect(broken.ready).rejects.toThrow(/not valid JSON/);
    expect(await broken.exited).toBe(1);
    expect(readFileSync(sitesFile, 'utf8')).toBe('{"truncated');
  }, 30_000);

  it('stops with one clear line on a bad setting', async () => {
    const p = start(tempDir(), { PORT: 'eighty' });
    p.ready.catch(() => undefined); // it never becomes ready; the exit is what we check
    expect(await p.exited).toBe(1);
    const { err } = p.output();
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/PORT/);
  });
});
