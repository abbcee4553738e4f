/**
 * Transactional imports (docs/API.md#http-api) against a real collector: validated whole, written whole
 * before the 200, visible at once, upserted by external_id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type TestCollector } from '../helpers/collector.ts';
import { addSite, admin, identify } from '../helpers/hostile.ts';

let c: TestCollector;
beforeAll(async () => {
  c = await startCollector();
});
afterAll(async () => {
  await c.stop();
});

const send = (method: string, path: string, body?: unknown) => c.send(method, path, body);
const importUsers = (users: unknown[]) => send('POST', '/external_users/import', { users });

const stats = () => c.admin('/stats');

describe('external_users/import', () => {
  it('makes 1000 users visible at once, with links to their user and account', async () => {
    const users = Array.from({ length: 1000 }, (_, i) => ({
      external_id: `bulk-${i}`,
      email: `bulk${i}@big.test`,
      name: `Bulk ${i}`,
      account: { external_id: `bulk-acct-${i % 10}`, name: `Big ${i % 10}`, monthly_rate: '10.50' },
    }));
    const res = await importUsers(users);
    expect(res.status).toBe(200);
    expect(res.json.external_users).toHaveLength(1000);
    expect(res.json.users).toHaveLength(1000);
    expect(res.json.external_accounts).toHaveLength(10);
    const first = res.json.external_users[0];
    expect(first.links.user).toMatch(/^u_/);
    expect(first.links.external_account).toBe('bulk-acct-0');
    expect(res.json.external_accounts[0].mrr_cents).toBe(1050);

    // No waiting for any queue: the listing shows them in the same breath.
    const listed = await c.admin('/users?per_page=100&q=big.test&includes=external_users,external_accounts');
    expect(listed.pagination.total_records).toBe(1000);
    expect(listed.external_users[0].links.user).toBe(listed.users[0].id);
    // The first 100 users belong to the ten accounts, each listed once.
    expect(listed.external_accounts.map((a: { external_id: string }) => a.external_id).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `bulk-acct-${i}`),
    );
  });

  it('refuses a batch with one bad record among 500, naming it, and writes nothing', async () => {
    const before = await stats();
    const users = Array.from({ length: 500 }, (_, i) => ({ external_id: `half-${i}`, email: `half${i}@acme.test` }));
    users[317] = { external_id: 'half-317', email: 'not-an-email' };
    const res = await importUsers(users);
    expect(res.status).toBe(422);
    expect(res.json.errors.type).toBe('invalid_request');
    expect(res.json.errors.details).toEqual([{ index: 317, field: 'email', message: expect.any(String) }]);
    expect(await stats()).toMatchObject({ users: before.users, external_users: before.external_users });
    expect((await c.admin('/users?q=half0@acme.test')).pagination.total_records).toBe(0);
  });

  it('reports every failing record and field in a 422', async () => {
    const res = await importUsers([
      { external_id: 'ok-1', email: 'ok1@acme.test' },
      { email: 'noid@acme.test' },
      { external_id: 'x', email: 'x@acme.test', account: { mrr_cents: -5 }, cf_Bad: 1 },
    ]);
    expect(res.status).toBe(422);
    const fields = res.json.errors.details.map((d: any) => `${d.index}:${d.field}`);
    expect(fields).toEqual(expect.arrayContaining(['1:external_id', '2:account.mrr_cents', '2:cf_Bad']));
    expect(fields.some((f: string) => f.startsWith('0:'))).toBe(false);
  });

  it('refuses 1001 records and an empty batch', async () => {
    const users = Array.from({ length: 1001 }, (_, i) => ({ external_id: `over-${i}`, email: `over${i}@acme.test` }));
    expect((await importUsers(users)).status).toBe(400);
    expect((await importUsers([])).status).toBe(400);
    expect((await c.admin('/users?q=over0@acme.test')).pagination.total_records).toBe(0);
  });

  it('updates a re-imported record in place', async () => {
    await importUsers([{ external_id: 're-1', email: 're1@acme.test', name: 'Old', type: 'Owner', cf_persona: 'dev' }]);
    const before = await stats();
    const res = await importUsers([
      { external_id: 're-1', email: 're1@acme.test', name: 'New', custom_fields: { seats: 4 } },
    ]);
    expect(res.status).toBe(200);
    expect(await stats()).toMatchObject({ users: before.users, external_users: before.external_users });
    const eu = res.json.external_users[0];
    expect(eu).toMatchObject({ name: 'New', type: 'Owner', custom_fields: { cf_persona: 'dev', cf_seats: 4 } });
    expect(res.json.users[0].name).toBe('New');
  });

  it('lets two external users with one email share a user', async () => {
    const res = await importUsers([
      { external_id: 'crm-7', email: 'Shared@Acme.test' },
      { external_id: 'app-7', email: 'shared@acme.test' },
    ]);
    expect(res.status).toBe(200);
    const [a, b] = res.json.external_users;
    expect(a.links.user).toBe(b.links.user);
    expect(res.json.users).toHaveLength(1);
    expect(res.json.users[0].links.external_users.sort()).toEqual(['app-7', 'crm-7']);
  });

  it('makes a pending identity visible when its external user is imported', async () => {
    const queued = await send('POST', '/bulk_identify', {
      identities: [
        { id: 'pend-1', email: 'pend@acme.test', app_version: '9.9', account: { id: 'pend-acct', monthly_rate: 5 } },
      ],
    });
    expect(queued.status).toBe(202);
    await c.collector.intake.drained();
    const before = await stats();
    const res = await importUsers([{ external_id: 'pend-1', email: 'pend@acme.test', name: 'Pat' }]);
    expect(res.json.external_users[0]).toMatchObject({
      name: 'Pat',
      app_version: '9.9',
      links: { external_account: 'pend-acct' },
    });
    expect(res.json.external_accounts[0]).toMatchObject({ external_id: 'pend-acct', mrr_cents: 500 });
    expect((await stats()).pending_identities).toBe(before.pending_identities - 1);
  });

  it('keeps a private account for an embedded account without external_id', async () => {
    const res = await importUsers([
      { external_id: 'solo-1', email: 'solo@acme.test', account: { name: 'Solo', mrr_cents: 900 } },
    ]);
    expect(res.json.external_accounts[0]).toMatchObject({ external_id: null, name: 'Solo', mrr_cents: 900 });
    expect(res.json.external_users[0].links.external_account).toBe('~solo-1');
  });

  it('is not overwritten by a later unproven widget identity where the site ranks sources', async () => {
    // In off mode the newest update wins whatever its source: test/server/source-ranks.test.ts.
    const site = await addSite(c, 'optional');
    const users = [{ external_id: 'rank-1', email: 'rank@acme.test', name: 'From CRM' }];
    expect((await admin(c, 'POST', '/external_users/import', { users }, site.admin_key)).status).toBe(200);
    const res = await identify(c, site.site_key, [{ id: 'rank-1', email: 'rank@acme.test', name: 'From page' }]);
    expect(res.status).toBe(202);
    await c.collector.intake.drained();
    const listed = await admin(c, 'GET', '/users?q=rank@acme.test&includes=external_users', undefined, site.admin_key);
    expect(listed.json.external_users[0].name).toBe('From CRM');
  });
});

describe('tags', () => {
  it('adds to the tags already there, replaces on request, and filters listings', async () => {
    await importUsers([{ external_id: 'tag-1', email: 'tag1@acme.test', tags: ['beta', 'vip'] }]);
    let res = await importUsers([{ external_id: 'tag-1', email: 'tag1@acme.test', tags: ['churn-risk'] }]);
    expect(res.json.external_users[0].tags).toEqual(['beta', 'churn-risk', 'vip']);
    expect((await c.admin('/users?tag=vip')).users.map((u: any) => u.email)).toEqual(['tag1@acme.test']);
    res = await importUsers([{ external_id: 'tag-1', email: 'tag1@acme.test', tags: ['alpha'], tags_mode: 'replace' }]);
    expect(res.json.external_users[0].tags).toEqual(['alpha']);
    expect((await c.admin('/users?tag=vip')).pagination.total_records).toBe(0);
  });
});

describe('external_accounts/import', () => {
  it('upserts accounts with money in cents and refuses a record without external_id', async () => {
    let res = await send('POST', '/external_accounts/import', {
      accounts: [
        { external_id: 'acct-a', name: 'A', plan: 'Team', monthly_rate: 99.5, ltv: '1495' },
        { external_id: 42, name: 'Numeric', mrr_cents: 1000, ltv_cents: 5000, custom_fields: { region: 'EU' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.json.external_accounts).toEqual([
      expect.objectContaining({ external_id: 'acct-a', mrr_cents: 9950, ltv_cents: 149500, plan: 'Team' }),
      expect.objectContaining({ external_id: '42', mrr_cents: 1000, custom_fields: { cf_region: 'EU' } }),
    ]);
    res = await send('POST', '/external_accounts/import', {
      accounts: [{ external_id: 'acct-a', mrr_cents: 12000 }, { name: 'no id' }],
    });
    expect(res.status).toBe(422);
    expect(res.json.errors.details).toEqual([expect.objectContaining({ index: 1, field: 'external_id' })]);
    res = await send('POST', '/external_accounts/import', { accounts: [{ external_id: 'acct-a', mrr_cents: 12000 }] });
    expect(res.json.external_accounts[0]).toMatchObject({ mrr_cents: 12000, name: 'A', plan: 'Team' });
  });
});
