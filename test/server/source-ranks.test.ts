/**
 * Sources are ranked only where a site verifies identities (docs/API.md#trust). In `off` mode the
 * newest update wins whatever its source — admin API, import or page. In `optional` mode the
 * admin API outranks an unproven page. What a site stored in `off` mode stays overwritable by
 * proven sources after it switches to `optional`; switching back to `off` unranks everything
 * again. Real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setVerification, type CreatedSite } from '../../server/sites.ts';
import { userHash } from '../../server/sign.ts';
import { RANK } from '../../server/core/merge.ts';
import { startCollector, type TestCollector } from '../helpers/collector.ts';
import { addSite, admin, feedback, identify, stored } from '../helpers/hostile.ts';

let c: TestCollector;
beforeAll(async () => {
  c = await startCollector();
});
afterAll(async () => {
  await c.stop();
});

interface On {
  key: string;
  admin: string;
  secret?: string;
}
const demo = (): On => ({ key: c.siteKey, admin: c.adminKey });
const on = (s: CreatedSite): On => ({ key: s.site_key, admin: s.admin_key, secret: s.identity_secret });

/** The external user and account the admin API lists for an id (after the queue drained). */
async function listed(site: On, id: string) {
  await stored(c, site.key);
  const res = await admin(
    c,
    'GET',
    '/users?per_page=100&includes=external_users,external_accounts',
    undefined,
    site.admin,
  );
  const eu = res.json.external_users.find((u: any) => u.external_id === id);
  const account = res.json.external_accounts.find((a: any) => a.id === eu?.links.external_account);
  return { name: eu?.name, mrr_cents: account?.mrr_cents };
}

/** The first step: last night's bulk_identify of user `id` on account `acme-<id>` at 9.99. */
async function bulkIdentified(site: On, id: string) {
  const res = await admin(
    c,
    'POST',
    '/bulk_identify',
    {
      identities: [
        { id, email: `${id}@acme.test`, name: 'Old Name', account: { id: `acme-${id}`, monthly_rate: 9.99 } },
      ],
    },
    site.admin,
  );
  expect(res.status).toBe(202);
  await stored(c, site.key);
}

/** What the page says today: the upgrade to 99.50 and a new name. */
const upgraded = (id: string) => ({
  id,
  email: `${id}@acme.test`,
  name: 'New Name',
  account: { id: `acme-${id}`, monthly_rate: 99.5 },
});

describe('off mode: the newest update wins whatever its source', () => {
  it('lets widget feedback that saw the upgrade change what bulk_identify set', async () => {
    await bulkIdentified(demo(), 'off-1');
    expect((await feedback(c, c.siteKey, { kind: 'nps', score: 9, identity: upgraded('off-1') })).status).toBe(201);
    expect(await listed(demo(), 'off-1')).toEqual({ name: 'New Name', mrr_cents: 9950 });
  });

  it('lets a later widget identify change what bulk_identify set', async () => {
    await bulkIdentified(demo(), 'off-2');
    expect(
      (await feedback(c, c.siteKey, { kind: 'nps', score: 9, identity: { id: 'off-2', email: 'off-2@acme.test' } }))
        .status,
    ).toBe(201);
    await new Promise((r) => setTimeout(r, 5));
    expect((await identify(c, c.siteKey, [upgraded('off-2')])).status).toBe(202);
    expect(await listed(demo(), 'off-2')).toEqual({ name: 'New Name', mrr_cents: 9950 });
  });

  it('lets an import that came later change what the widget set', async () => {
    expect((await feedback(c, c.siteKey, { kind: 'nps', score: 9, identity: upgraded('off-3') })).status).toBe(201);
    const res = await admin(c, 'POST', '/external_users/import', {
      users: [
        {
          external_id: 'off-3',
          email: 'off-3@acme.test',
          name: 'Imported',
          account: { external_id: 'acme-off-3', mrr_cents: 500 },
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(await listed(demo(), 'off-3')).toEqual({ name: 'Imported', mrr_cents: 500 });
  });

  it('lets a later widget identify change what an import set', async () => {
    const users = [{ external_id: 'off-5', email: 'off-5@acme.test', name: 'From CRM' }];
    expect((await admin(c, 'POST', '/external_users/import', { users })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 5));
    expect((await identify(c, c.siteKey, [{ id: 'off-5', email: 'off-5@acme.test', name: 'From page' }])).status).toBe(
      202,
    );
    expect((await listed(demo(), 'off-5')).name).toBe('From page');
  });

  it('overwrites a field stored at admin rank before sources were unranked', async () => {
    await c.collector.store.putAccount({
      site: c.siteKey,
      key: 'acme-legacy',
      external_id: 'acme-legacy',
      profile: { f: { mrr_cents: 999 }, v: { mrr_cents: [RANK.admin, 1, 'legacy'] } },
      created_at: 1,
      updated_at: 1,
    });
    const identity = { id: 'off-4', email: 'off-4@acme.test', account: { id: 'acme-legacy', monthly_rate: 99.5 } };
    expect((await feedback(c, c.siteKey, { kind: 'nps', score: 9, identity })).status).toBe(201);
    expect((await c.collector.store.getAccount(c.siteKey, 'acme-legacy'))!.profile.f.mrr_cents).toBe(9950);
  });
});

/** Makes `id` visible with feedback proven by user_hash that carries no field but the email. */
async function visible(site: On, id: string) {
  const identity = { id, email: `${id}@acme.test`, user_hash: userHash(site.secret!, id) };
  expect((await feedback(c, site.key, { kind: 'nps', score: 9, identity })).status).toBe(201);
}

describe('optional mode: the admin API outranks an unproven page', () => {
  it('keeps what bulk_identify set against widget identify and feedback', async () => {
    const site = on(await addSite(c, 'optional'));
    await bulkIdentified(site, 'opt-1');
    await visible(site, 'opt-1');
    expect((await identify(c, site.key, [upgraded('opt-1')])).status).toBe(202);
    expect((await feedback(c, site.key, { kind: 'nps', score: 9, identity: upgraded('opt-1') })).status).toBe(201);
    expect(await listed(site, 'opt-1')).toEqual({ name: 'Old Name', mrr_cents: 999 });
  });
});

describe('switching modes', () => {
  it('from off to optional: what off mode stored is overwritten by a proven source, and then protected', async () => {
    const created = await addSite(c, 'off');
    const site = on(created);
    await bulkIdentified(site, 'sw-1');
    expect(
      (await feedback(c, site.key, { kind: 'nps', score: 9, identity: { id: 'sw-1', email: 'sw-1@acme.test' } }))
        .status,
    ).toBe(201);
    await setVerification(c.collector.store, site.key, 'optional');
    const proven = { ...upgraded('sw-1'), user_hash: userHash(site.secret!, 'sw-1') };
    expect((await identify(c, site.key, [proven])).status).toBe(202);
    expect(await listed(site, 'sw-1')).toEqual({ name: 'New Name', mrr_cents: 9950 });
    const spoof = { ...upgraded('sw-1'), name: 'Spoof', account: { id: 'acme-sw-1', monthly_rate: 0.01 } };
    expect((await identify(c, site.key, [spoof])).status).toBe(202);
    expect(await listed(site, 'sw-1')).toEqual({ name: 'New Name', mrr_cents: 9950 });
  });

  it('from optional back to off: the newest update wins again, over what the admin API set', async () => {
    const site = on(await addSite(c, 'optional'));
    await bulkIdentified(site, 'sw-2');
    await visible(site, 'sw-2');
    expect((await identify(c, site.key, [upgraded('sw-2')])).status).toBe(202);
    expect(await listed(site, 'sw-2')).toEqual({ name: 'Old Name', mrr_cents: 999 });
    await setVerification(c.collector.store, site.key, 'off');
    expect((await identify(c, site.key, [upgraded('sw-2')])).status).toBe(202);
    expect(await listed(site, 'sw-2')).toEqual({ name: 'New Name', mrr_cents: 9950 });
  });
});
