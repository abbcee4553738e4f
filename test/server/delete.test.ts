/**
 * Erasure for privacy (docs/API.md#http-api, DELETE /users/:id): the user, their external users and
 * private accounts, and pending identities with their email go; their feedback stays, counted
 * but anonymous; and nothing erased comes back from the intake log after a restart — even
 * after kill -9. Imports acknowledged with a 200 survive kill -9 too.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startCollector, type TestCollector } from '../helpers/collector.ts';
import { processScratch, spawnCollector } from '../helpers/process.ts';

const { tempDir, procs } = processScratch('parley-del-');

function request(
  url: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));
}

const ann = [
  { external_id: 'crm-ann', email: 'ann@acme.test', name: 'Ann', account: { name: 'Ann alone', mrr_cents: 500 } },
  { external_id: 'app-ann', email: 'ann@acme.test', account: { external_id: 'acme', name: 'Acme', mrr_cents: 9900 } },
  { external_id: 'bob', email: 'bob@acme.test', account: { external_id: 'acme' } },
];

describe('DELETE /users/:id', () => {
  let c: TestCollector;
  afterAll(async () => {
    await c?.stop();
  });
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    request(c.url, c.adminKey, method, path, body, headers);

  it('erases the user, their external users, private account and pending identities, and keeps their feedback anonymous', async () => {
    c = await startCollector();
    // Never seen before, so it waits in the pending store.
    expect(
      (
        await call('POST', '/api/v2/admin/bulk_identify', {
          identities: [{ id: 'widget-ann', email: 'ANN@acme.test', app_version: '1' }],
        })
      ).status,
    ).toBe(202);
    await c.collector.intake.drained();
    const imported = await call('POST', '/api/v2/admin/external_users/import', { users: ann });
    const annId = imported.json.external_users[0].links.user;
    expect((await c.admin('/stats')).pending_identities).toBe(1);
    const fb = await call(
      'POST',
      '/api/widget/v1/demo/feedback',
      { message_id: 'ann-idea', kind: 'idea', title: 'Export', identity: { id: 'crm-ann', email: 'ann@acme.test' } },
      { origin: c.url },
    );
    expect(fb.status).toBe(201);
    const before = await c.admin('/stats');

    const res = await call('DELETE', `/api/v2/admin/users/${annId}`);
    expect(res.status).toBe(200);
    expect(res.json.deleted).toEqual({
      users: 1,
      external_users: 2,
      pending_identities: 1,
      accounts: 1,
      feedback_detached: 1,
    });

    const after = await c.admin('/stats');
    expect(after).toMatchObject({
      users: before.users - 1,
      external_users: before.external_users - 2,
      external_accounts: before.external_accounts - 1,
      feedback: before.feedback,
    });
    expect((await c.admin('/users?q=ann')).pagination.total_records).toBe(0);
    const [feedback] = (await c.admin('/feedback')).feedback;
    expect(feedback).toMatchObject({ message_id: 'ann-idea', user: null, external_user: null, external_account: null });
    const [idea] = (await c.admin('/ideas')).ideas;
    expect(idea.supporters_count).toBe(1);
    // The shared account stays, with the user who is left.
    const accounts = (await c.admin('/external_accounts')).external_accounts;
    expect(accounts.map((a: any) => [a.external_id, a.users_count])).toEqual([['acme', 1]]);
  });

  it('answers 404 for a user that does not exist, and for one already erased', async () => {
    expect((await call('DELETE', '/api/v2/admin/users/u_nobody')).status).toBe(404);
    const bob = (await c.admin('/users?q=bob')).users[0];
    expect((await call('DELETE', `/api/v2/admin/users/${bob.id}`)).status).toBe(200);
    expect((await call('DELETE', `/api/v2/admin/users/${bob.id}`)).status).toBe(404);
  });

  it('stays erased after a clean restart on the same data directory', async () => {
    await c.stop();
    const first = await startCollector({ dataDir: tempDir(), keepData: true });
    const call1 = (method: string, path: string, body?: unknown) =>
      request(first.url, first.adminKey, method, '/api/v2/admin' + path, body);
    await call1('POST', '/bulk_identify', { identities: [{ id: 'widget-ann', email: 'ann@acme.test' }] });
    const imported = await call1('POST', '/external_users/import', { users: ann });
    expect((await call1('DELETE', `/users/${imported.json.users[0].id}`)).status).toBe(200);
    await first.stop();
    c = await startCollector({ dataDir: first.dataDir, keepData: true });
    expect((await c.admin('/users?q=ann')).pagination.total_records).toBe(0);
    expect(await c.admin('/stats')).toMatchObject({ users: 1, external_users: 1, pending_identities: 0 });
  });
});

const ADMIN = 'delete-admin-key-00000001';

/** The collector as its own process, checkpointing rarely, so a restart replays the log. */
function startProcess(dataDir: string) {
  const p = spawnCollector({ PARLEY_DATA_DIR: dataDir, PARLEY_DEMO_ADMIN_KEY: ADMIN, PARLEY_CHECKPOINT_MS: '600000' });
  procs.push(p.child);
  return p;
}

describe('after kill -9', () => {
  it('keeps every import answered 200 and every erasure answered 200', async () => {
    const dataDir = tempDir();
    const first = startProcess(dataDir);
    const url = await first.ready;
    const call = (method: string, path: string, body?: unknown) =>
      request(url, ADMIN, method, '/api/v2/admin' + path, body);
    // Pending identities for Ann logged before the import and the erasure: a replay meets them first.
    expect(
      (await call('POST', '/bulk_identify', { identities: [{ id: 'widget-ann', email: 'ann@acme.test' }] })).status,
    ).toBe(202);
    const imported = await call('POST', '/external_users/import', { users: ann });
    expect(imported.status).toBe(200);
    const many = Array.from({ length: 1000 }, (_, i) => ({
      external_id: `k-${i}`,
      email: `k${i}@kill.test`,
      tags: ['imported'],
    }));
    expect((await call('POST', '/external_users/import', { users: many })).status).toBe(200);
    expect(
      (await call('POST', '/bulk_identify', { identities: [{ id: 'late-ann', email: 'ann@acme.test' }] })).status,
    ).toBe(202);
    expect((await call('DELETE', `/users/${imported.json.users[0].id}`)).status).toBe(200);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = startProcess(dataDir);
    const url2 = await second.ready;
    const get = (path: string) => request(url2, ADMIN, 'GET', '/api/v2/admin' + path);
    expect((await get('/users?tag=imported')).json.pagination.total_records).toBe(1000);
    expect((await get('/users?q=ann')).json.pagination.total_records).toBe(0);
    expect((await get('/stats')).json).toMatchObject({ users: 1001, external_users: 1001, pending_identities: 0 });
    second.child.kill('SIGTERM');
    await second.exited;
  }, 60_000);
});
