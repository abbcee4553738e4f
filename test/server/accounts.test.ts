/**
 * Several accounts per person over HTTP (docs/API.md#the-identity-object), against the real app on
 * a memory store: `accounts` from the widget, bulk_identify and Segment groups; feedback records
 * the account the person acts in; listings show every linked account and count every linked
 * user; malformed lists are refused naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNTS_PER_IDENTITY_MAX } from '../../shared/limits.ts';
import { rotateWriteKey } from '../../server/sites.ts';
import { memoryApp, ORIGIN } from '../helpers/app.ts';

let app: Awaited<ReturnType<typeof memoryApp>>;
let writeKey: string;
beforeAll(async () => {
  app = await memoryApp();
  writeKey = (await rotateWriteKey(app.store, 'acme')).write_key;
});
afterAll(() => app.stop());

const get = async (path: string) => {
  const res = await app.admin('GET', path);
  expect(res.status).toBe(200);
  return res.json;
};
const feedback = async (message_id: string, identity: Record<string, unknown>) =>
  app.call(
    'POST',
    '/api/widget/v1/acme/feedback',
    { message_id, kind: 'idea', title: `Idea ${message_id}`, identity },
    { origin: ORIGIN },
  );
const v1 = async (path: string, body: unknown) => {
  const res = await app.call('POST', '/v1' + path, body, {
    authorization: 'Basic ' + Buffer.from(writeKey + ':').toString('base64'),
  });
  expect(res.status).toBe(202);
  await app.intake.drained();
};
const userId = async (email: string) => (await get(`/users?q=${encodeURIComponent(email)}`)).users[0].id as string;

describe('a person on several accounts', () => {
  it('from the widget: feedback records the acting account, listings show and count every linked one', async () => {
    const ann = {
      id: 'ann',
      email: 'ann@acme.test',
      account: { id: 'acme', name: 'Acme', monthly_rate: 10 },
      accounts: [{ id: 'globex', name: 'Globex', monthly_rate: 50 }],
    };
    expect((await feedback('fa', ann)).status).toBe(201);
    expect((await feedback('fb', { id: 'bob', email: 'bob@globex.test', account: { id: 'globex' } })).status).toBe(201);

    const [fa] = (await get('/feedback')).feedback.filter((f: { message_id: string }) => f.message_id === 'fa');
    expect(fa).toMatchObject({ mrr_cents_at: 1000, external_account: { id: 'acme' } });

    const accounts = (await get('/external_accounts')).external_accounts;
    const count = (id: string) => accounts.find((a: { id: string }) => a.id === id).users_count;
    expect([count('acme'), count('globex')]).toEqual([1, 2]);

    const listed = await get('/users?account=globex&includes=external_users,external_accounts');
    expect(listed.users.map((u: { email: string }) => u.email).sort()).toEqual(['ann@acme.test', 'bob@globex.test']);
    const annEu = listed.external_users.find((e: { external_id: string }) => e.external_id === 'ann');
    expect(annEu.links).toMatchObject({ external_account: 'acme', external_accounts: ['acme', 'globex'] });
    // Ann alone on the page still brings the account she is only linked to.
    const annOnly = await get('/users?q=ann%40acme.test&includes=external_accounts');
    expect(annOnly.external_accounts.map((a: { id: string }) => a.id)).toEqual(['acme', 'globex']);

    const page = await get(`/users/${await userId('ann@acme.test')}`);
    expect(page.external_accounts.map((a: { id: string; users_count: number }) => [a.id, a.users_count])).toEqual([
      ['acme', 1],
      ['globex', 2],
    ]);
    expect(Object.keys(page.external_users[0].provenance)).toEqual(
      expect.arrayContaining(['external_accounts.acme', 'external_accounts.globex']),
    );
  });

  it('from Segment: a second group adds a link and becomes the account the person acts in', async () => {
    await v1('/identify', { userId: 'cat', traits: { email: 'cat@acme.test' } });
    await v1('/group', { userId: 'cat', groupId: 'g1', traits: { name: 'G1', monthly_spend: 10 } });
    await v1('/group', { userId: 'cat', groupId: 'g2', traits: { name: 'G2', monthly_spend: 20 } });
    expect((await feedback('fc', { id: 'cat', email: 'cat@acme.test' })).status).toBe(201);
    const page = await get(`/users/${await userId('cat@acme.test')}`);
    expect(page.external_users[0].links).toMatchObject({ external_account: 'g2', external_accounts: ['g2', 'g1'] });
    expect(page.feedback[0]).toMatchObject({ mrr_cents_at: 2000, external_account: { id: 'g2' } });
  });

  it('from bulk_identify, and refuses a list entry without an id or a list over the limit, naming the field', async () => {
    const res = await app.admin('POST', '/bulk_identify', {
      identities: [
        { id: 'dee', email: 'dee@acme.test', accounts: [{ id: 'acme' }, { id: 'initech', plan: 'Pro' }] },
        { id: 'eve', email: 'eve@acme.test', accounts: [{ name: 'No id' }] },
        {
          id: 'fay',
          email: 'fay@acme.test',
          accounts: Array.from({ length: ACCOUNTS_PER_IDENTITY_MAX + 1 }, (_, i) => ({ id: `a${i}` })),
        },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.json.accepted).toBe(1);
    expect(res.json.rejected.map((r: { errors: { field: string }[] }) => r.errors[0].field)).toEqual([
      'accounts.0.id',
      'accounts',
    ]);
    expect((await feedback('fd', { id: 'dee', email: 'dee@acme.test' })).status).toBe(201);
    const page = await get(`/users/${await userId('dee@acme.test')}`);
    expect(page.external_users[0].links.external_accounts).toEqual(['acme', 'initech']);
    expect(page.external_accounts.find((a: { id: string }) => a.id === 'initech')).toMatchObject({ plan: 'Pro' });

    const bad = await app.call(
      'POST',
      '/api/widget/v1/acme/identify',
      { sent_at: Date.now(), identities: [{ message_id: 'w1', email: 'x@acme.test', accounts: 'acme' }] },
      { origin: ORIGIN },
    );
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain('accounts');
    expect(bad.text).not.toMatch(/at .*\.ts/);
  });

  it('from the transactional import: every account in accounts is upserted and linked, an entry without an id refused', async () => {
    const res = await app.admin('POST', '/external_users/import', {
      users: [
        {
          external_id: 'gus',
          email: 'gus@acme.test',
          accounts: [
            { external_id: 'hooli', name: 'Hooli', monthly_rate: 30 },
            { external_id: 'acme', plan: 'Team' },
          ],
        },
      ],
    });
    expect(res.status).toBe(200);
    const page = await get(`/users/${await userId('gus@acme.test')}`);
    // No `account`: the first of `accounts` is the one Gus acts in.
    expect(page.external_users[0].links).toMatchObject({
      external_account: 'hooli',
      external_accounts: ['hooli', 'acme'],
    });
    expect(page.external_accounts.find((a: { id: string }) => a.id === 'hooli')).toMatchObject({ mrr_cents: 3000 });
    expect(page.external_accounts.find((a: { id: string }) => a.id === 'acme')).toMatchObject({ plan: 'Team' });

    const bad = await app.admin('POST', '/external_users/import', {
      users: [{ external_id: 'hal', email: 'hal@acme.test', accounts: [{ name: 'No id' }] }],
    });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.json)).toContain('accounts.0.external_id');
  });
});
