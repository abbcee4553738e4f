/**
 * A collector on PostgreSQL through its HTTP API (the production wiring, openCollector with
 * a database URL): the admin writes that go through the intake as transactions — imports,
 * custom fields, erasure — and identify, feedback and listings, as docs/API.md#http-api and docs/API.md#identify-semantics describe.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCollector } from '../../server/collector.ts';
import { createSite } from '../../server/sites.ts';
import { createSchema, DATABASE_URL, type TestSchema } from './pg-schema.ts';

const ADMIN = 'pg-collector-admin-key-001';

describe.skipIf(!DATABASE_URL)('a collector on PostgreSQL', () => {
  let schema: TestSchema;
  let collector: Awaited<ReturnType<typeof openCollector>>;
  let server: Server;
  let url: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-pgc-'));

  beforeAll(async () => {
    schema = await createSchema();
    collector = await openCollector({ dataDir, databaseUrl: schema.url, demoAdminKey: ADMIN, checkpointMs: 200 });
    server = collector.app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await collector.ensureDemoSite([url]);
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await collector?.close(server);
    await schema?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const admin = async (method: string, path: string, body?: unknown, key = ADMIN) => {
    const res = await fetch(`${url}/api/v2/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const widget = async (path: string, body: unknown, site = 'demo') => {
    const res = await fetch(`${url}/api/widget/v1/${site}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: url },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  it('imports 1000 users transactionally, visible at once, and refuses a bad batch whole', async () => {
    const users = Array.from({ length: 1000 }, (_, i) => ({
      external_id: `imp-${i}`,
      email: `imp${i}@big.test`,
      name: `Imp ${i}`,
      account: { external_id: `big-${i % 10}`, monthly_rate: '10.50' },
    }));
    const res = await admin('POST', '/external_users/import', { users });
    expect(res.status).toBe(200);
    expect(res.json.external_users).toHaveLength(1000);
    expect(res.json.external_accounts[0].mrr_cents).toBe(1050);
    const listed = await admin('GET', '/users?per_page=100&page=10');
    expect(listed.json.pagination.total_records).toBe(1000);
    expect(listed.json.users.at(-1).email).toBe('imp999@big.test');

    const bad = await admin('POST', '/external_users/import', {
      users: [
        { external_id: 'x1', email: 'x1@x.test' },
        { external_id: 'x2', email: 'nope' },
      ],
    });
    expect(bad.status).toBe(422);
    expect((await admin('GET', '/stats')).json.users).toBe(1000);
    // A thousand people written row by row take ~15 s on a loaded 2-core machine.
  }, 60_000);

  it('holds identities pending, promotes on feedback with the MRR of the moment, and dedupes feedback', async () => {
    const now = Date.now();
    const res = await widget('identify', {
      sent_at: now,
      identities: [
        {
          id: 'w1',
          email: 'w1@acme.test',
          name: 'Wanda',
          message_id: 'wm-1',
          observed_at: now,
          account: { id: 'acme', monthly_rate: 99.5 },
        },
      ],
    });
    expect(res.status).toBe(202);
    await collector.intake.drained();
    expect((await admin('GET', '/stats')).json).toMatchObject({ pending_identities: 1, queue: { depth: 0 } });
    const fb = { message_id: 'fb-1', kind: 'idea', title: 'Dark mode', identity: { id: 'w1', email: 'w1@acme.test' } };
    const [one, two] = await Promise.all([widget('feedback', fb), widget('feedback', fb)]);
    expect([one.status, two.status]).toEqual([201, 201]);
    expect(one.json.feedback.id).toBe(two.json.feedback.id);
    const feedback = (await admin('GET', '/feedback')).json.feedback;
    expect(feedback).toHaveLength(1);
    expect(feedback[0]).toMatchObject({ user: { email: 'w1@acme.test' }, external_account: { external_id: 'acme' } });
    const ideas = (await admin('GET', '/ideas')).json.ideas;
    expect(ideas[0]).toMatchObject({ title: 'Dark mode', supporters_count: 1, mrr_cents: 9950 });
    expect((await admin('GET', '/stats')).json).toMatchObject({ pending_identities: 0, users: 1001, feedback: 1 });
  });

  it('applies bulk_identify and a later unproven widget identity newest first in off mode, admin first in optional', async () => {
    const optional = await createSite(collector.store, { name: 'Optional', origins: [url], verification: 'optional' });
    for (const [site, key, name] of [
      ['demo', ADMIN, 'From Page'],
      [optional.site_key, optional.admin_key, 'From Admin'],
    ]) {
      const identities = [{ id: 'imp-1', email: 'imp1@big.test', name: 'From Admin' }];
      expect((await admin('POST', '/bulk_identify', { identities }, key)).status).toBe(202);
      await new Promise((r) => setTimeout(r, 5));
      const now = Date.now();
      const item = {
        id: 'imp-1',
        email: 'imp1@big.test',
        name: 'From Page',
        message_id: `wm-2-${site}`,
        observed_at: now,
      };
      expect((await widget('identify', { sent_at: now, identities: [item] }, site)).status).toBe(202);
      await collector.intake.drained();
      // Visible on the demo site (an import above gave the email a user), pending on the new one.
      const record =
        (await collector.store.getExternalUser(site, 'imp-1')) ?? (await collector.store.getPending(site, 'imp-1'));
      expect([site, record!.profile.f.name]).toEqual([site, name]);
    }
  });

  it('checks traits against custom field definitions once defined', async () => {
    const put = await admin('PUT', '/custom_fields', {
      custom_fields: [{ key: 'seats', object: 'user', type: 'number' }],
    });
    expect(put.status).toBe(200);
    expect((await admin('GET', '/custom_fields')).json.custom_fields).toMatchObject([
      { key: 'cf_seats', type: 'number' },
    ]);
    const res = await admin('POST', '/external_users/import', {
      users: [{ external_id: 'cf-1', email: 'cf1@x.test', custom_fields: { seats: '12' } }],
    });
    expect(res.status).toBe(200);
    expect((await collector.store.getExternalUser('demo', 'cf-1'))!.profile.f.cf_seats).toBe(12);
  });

  it('erases a user with their external users and pending identities, keeping their feedback anonymous', async () => {
    const user = (await collector.store.getUserByEmail('demo', 'w1@acme.test'))!;
    const now = Date.now();
    await widget('identify', {
      sent_at: now,
      identities: [{ id: 'w1-other', email: 'w1@acme.test', message_id: 'wm-3', observed_at: now }],
    });
    await collector.intake.drained();
    const res = await admin('DELETE', `/users/${user.id}`);
    expect(res.status).toBe(200);
    expect(res.json.deleted).toMatchObject({ users: 1, external_users: 2, feedback_detached: 1 });
    expect(await collector.store.getUser('demo', user.id)).toBeUndefined();
    const feedback = (await admin('GET', '/feedback')).json.feedback;
    expect(feedback[0].user ?? null).toBeNull();
  });
});
