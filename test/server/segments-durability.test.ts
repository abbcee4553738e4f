/**
 * Saved segments as an operator runs the collector (docs/API.md#segments): a real process on a
 * real data directory, killed with SIGKILL right after answering a PUT and a DELETE; after the
 * restart (the intake log replayed) the segment saved is there, the one deleted is not, and a
 * list applies the saved one.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCollector } from '../helpers/process.ts';

const ADMIN = 'segments-durability-key-01';
const dirs: string[] = [];
const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A collector on `dir` that checkpoints only when it stops: whatever it answered lives in its log alone. */
async function start(dir: string) {
  const p = spawnCollector({ PARLEY_DATA_DIR: dir, PARLEY_DEMO_ADMIN_KEY: ADMIN, PARLEY_CHECKPOINT_MS: '600000' });
  procs.push(p.child);
  const url = await p.ready;
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + '/api/v2/admin' + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  return { p, send };
}

describe('saved segments across kill -9', () => {
  // Two collectors start as tsx processes: seconds each on a loaded 2-core machine.
  it('keeps what was saved and forgets what was deleted', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-segments-dur-'));
    dirs.push(dir);
    const first = await start(dir);
    const fb = await first.send('POST', '/feedback', {
      feedback: [
        { kind: 'nps', score: 9, identity: { id: 'a', email: 'a@x.test', account: { id: 'eu1', cf_region: 'EU' } } },
        { kind: 'nps', score: 2, identity: { id: 'b', email: 'b@x.test', account: { id: 'us1', cf_region: 'US' } } },
      ],
    });
    expect(fb.status).toBe(201);
    expect((await first.send('PUT', '/segments/eu', { filters: { 'account.cf_region': ['EU'] } })).status).toBe(201);
    expect((await first.send('PUT', '/segments/gone', { filters: { kind: ['nps'] } })).status).toBe(201);
    expect((await first.send('DELETE', '/segments/gone')).status).toBe(204);
    first.p.child.kill('SIGKILL');
    expect(await first.p.exited).toBeNull();

    const second = await start(dir);
    const list = await second.send('GET', '/segments');
    expect(list.json.segments).toEqual([{ name: 'eu', filters: { 'account.cf_region': ['EU'] } }]);
    expect((await second.send('GET', '/segments/gone')).status).toBe(404);
    expect((await second.send('GET', '/nps?segment=eu')).json).toMatchObject({ score: 100, responses: 1 });
    second.p.child.kill('SIGTERM');
    await second.p.exited;
  });
});
