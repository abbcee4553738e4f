/**
 * Saved segments as an operator runs the collector (docs/API.md#segments): a real process on a
 * real data directory, killed with SIGKILL right after answering a PUT and a DELETE; after the
 * restart (the intake log replayed) the segment saved is there, the one deleted is not, and a
 * list applies the saved one.
 */
import { describe, expect, it } from 'vitest';
import { logOnlyCollector, processScratch } from '../helpers/process.ts';

const ADMIN = 'segments-durability-key-01';
const { tempDir, procs } = processScratch('parley-segments-dur-');

const start = (dir: string) => logOnlyCollector(dir, ADMIN, procs);

describe('saved segments across kill -9', () => {
  // Two collectors start as tsx processes: seconds each on a loaded 2-core machine.
  it('keeps what was saved and forgets what was deleted', { timeout: 60_000 }, async () => {
    const dir = tempDir();
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
