/**
 * Issue 15's admin writes as an operator runs the collector: a real process on a real data
 * directory, killed with SIGKILL right after its answer. A history import of 1000 feedback
 * items and a re-link are both there after the restart (replayed from the intake log), and a
 * re-link still holds after a later email change.
 */
import { describe, expect, it } from 'vitest';
import { logOnlyCollector, processScratch, type CollectorProcess } from '../helpers/process.ts';

const ADMIN = 'admin-durability-key-0001';
const { tempDir, procs } = processScratch('parley-admin-dur-');

const start = (dir: string) => logOnlyCollector(dir, ADMIN, procs);

async function kill9(p: CollectorProcess) {
  p.child.kill('SIGKILL');
  expect(await p.exited).toBeNull();
}

describe('admin writes across kill -9', () => {
  it('keeps all of a 1000-item history import acknowledged right before the kill', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const feedback = Array.from({ length: 1000 }, (_, i) => ({
      message_id: `hist-${i}`,
      kind: i % 2 ? 'nps' : 'comment',
      score: i % 11,
      body: `call notes ${i}`,
      identity: { id: `cust-${i}`, email: `cust${i}@history.test`, account: { id: `co-${i % 20}`, mrr_cents: i } },
      created_at: 1_500_000_000 + i * 86_400,
      source: 'import',
    }));
    const res = await first.send('POST', '/feedback', { feedback });
    expect(res.status).toBe(201);
    expect(res.json.feedback).toHaveLength(1000);
    await kill9(first.p);

    const second = await start(dir);
    expect(await second.get('/stats')).toMatchObject({ feedback: 1000, users: 1000, external_users: 1000 });
    const seen = new Map<string, { created_at: string; source: string; user: { email: string } }>();
    let cursor: string | null = null;
    do {
      const page = await second.get(`/feedback?per_page=100${cursor ? `&after=${cursor}` : ''}`);
      for (const f of page.feedback) seen.set(f.message_id, f);
      cursor = page.pagination.next;
    } while (cursor);
    expect(seen.size).toBe(1000);
    expect(seen.get('hist-999')).toMatchObject({
      created_at: new Date((1_500_000_000 + 999 * 86_400) * 1000).toISOString(),
      source: 'import',
      user: { email: 'cust999@history.test' },
    });
    // Sent again after the restart, the same message ids are the same feedback.
    const again = await second.send('POST', '/feedback', { feedback });
    expect(again.json.feedback[7].id).toBe(res.json.feedback[7].id);
    expect((await second.get('/stats')).feedback).toBe(1000);
    second.p.child.kill('SIGTERM');
    expect(await second.p.exited).toBe(0);
  }, 120_000);

  it('keeps a re-link through kill -9 and a replay, and after a later email change', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const imported = await first.send('POST', '/external_users/import', {
      users: [
        { external_id: 'link-a', email: 'a@link.test' },
        { external_id: 'link-b', email: 'b@link.test' },
      ],
    });
    const [a, b] = imported.json.users as { id: string }[];
    await first.send('POST', '/feedback', { kind: 'comment', body: 'from a', external_id: 'link-a' });
    const moved = await first.send('PUT', '/external_users/link-a/user', { user_id: b.id });
    expect(moved.status).toBe(200);
    await kill9(first.p);

    const second = await start(dir);
    const page = await second.get(`/users/${b.id}`);
    expect(page.user.links.external_users).toEqual(['link-a', 'link-b']);
    expect(page.feedback.map((f: { body: string }) => f.body)).toEqual(['from a']);
    expect((await second.send('GET', `/users/${a.id}`)).status).toBe(404);

    // A later identify and import with another email leave it where the admin put it.
    await second.send('POST', '/bulk_identify', { identities: [{ id: 'link-a', email: 'a.new@link.test' }] });
    await second.send('POST', '/external_users/import', { users: [{ external_id: 'link-a', email: 'a2@link.test' }] });
    second.p.child.kill('SIGTERM');
    expect(await second.p.exited).toBe(0);
    const third = await start(dir);
    const eu = (await third.get(`/external_users?user_id=${b.id}`)).external_users;
    expect(eu.map((e: { external_id: string; email: string }) => [e.external_id, e.email])).toEqual([
      ['link-a', 'a2@link.test'],
      ['link-b', 'b@link.test'],
    ]);
    expect((await third.get('/stats')).users).toBe(1);
    third.p.child.kill('SIGTERM');
    expect(await third.p.exited).toBe(0);
  }, 120_000);
});
