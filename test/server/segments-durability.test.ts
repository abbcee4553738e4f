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
import { logOnlyCollector } from '../helpers/process.ts';

const ADMIN = 'segments-durability-key-01';
const dirs: string[] = [];
const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const start = (dir: string) => logOnlyCollector(dir, ADMIN, procs);

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
