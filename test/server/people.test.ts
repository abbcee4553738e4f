/**
 * One person's page, the external user listing and re-linking (docs/API.md#http-api) against
 * the real app on a memory store: provenance of every stored field from every source, paged
 * feedback, listings and counts that follow a re-link, and the errors of each route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIdentityToken, userHash } from '../../server/sign.ts';
import { memoryApp, ORIGIN } from '../helpers/app.ts';

let app: Awaited<ReturnType<typeof memoryApp>>;
let secret: string;
beforeAll(async () => {
  app = await memoryApp();
  // Proofs count only where the site verifies identities.
  const site = (await app.store.getSite('acme'))!;
  await app.store.putSite({ ...site, verification: 'optional' });
  secret = site.identity_secrets[0];
});
afterAll(async () => {
  await app.stop();
});

const admin = (method: string, path: string, body?: unknown) => app.admin(method, path, body);
const get = async (path: string) => (await admin('GET', path)).json;
const identify = async (message_id: string, identity: Record<string, unknown>) => {
  const res = await app.call(
    'POST',
    '/api/widget/v1/acme/identify',
    { sent_at: Date.now(), identities: [{ message_id, observed_at: Date.now(), ...identity }] },
    { origin: ORIGIN },
  );
  expect(res.status).toBe(202);
};
const userOf = async (email: string) => (await get(`/users?q=${encodeURIComponent(email)}`)).users[0];

describe('GET /api/v2/admin/users/:id', () => {
  it('shows where each stored field came from: widget, user_hash, token, bulk_identify, import', async () => {
    await identify('w-plain', { id: 'pat-1', email: 'pat@acme.test', timezone: 'Europe/Berlin' });
    await identify('w-hash', {
      id: 'pat-1',
      email: 'pat@acme.test',
      app_version: '4.2.0',
      account: { id: 'pat-co', plan: 'Team' },
      user_hash: userHash(secret, 'pat-1'),
    });
    const token = await signIdentityToken(secret, { id: 'pat-1', email: 'pat@acme.test', name: 'Pat Token' });
    await identify('w-token', { id: 'pat-1', email: 'pat@acme.test', identity_token: token });
    await admin('POST', '/bulk_identify', {
      identities: [{ id: 'pat-1', email: 'pat@acme.test', type: 'Owner', message_id: 'bulk-77' }],
    });
    await admin('POST', '/bulk_identify', { identities: [{ id: 'pat-1', email: 'pat@acme.test', cf_tier: 'gold' }] });
    await app.intake.drained();
    await admin('POST', '/external_accounts/import', { accounts: [{ external_id: 'pat-co', mrr_cents: 5000 }] });
    const fb = await admin('POST', '/feedback', { kind: 'comment', body: 'Hi', external_id: 'pat-1' });
    expect(fb.status).toBe(201);

    const page = await get(`/users/${fb.json.feedback.user.id}`);
    expect(page.user).toMatchObject({ email: 'pat@acme.test', links: { external_users: ['pat-1'] } });
    const [eu] = page.external_users;
    expect(eu).toMatchObject({ external_id: 'pat-1', name: 'Pat Token', type: 'Owner', timezone: 'Europe/Berlin' });
    const p = eu.provenance;
    expect(p.timezone).toMatchObject({ source: 'unproven', message_id: 'w-plain' });
    expect(p.app_version).toMatchObject({ source: 'user_hash', message_id: 'w-hash' });
    expect(p.name).toMatchObject({ source: 'identity_token', message_id: 'w-token' });
    expect(p.type).toMatchObject({ source: 'admin_api', message_id: 'bulk-77' });
    expect(p.cf_tier).toMatchObject({ source: 'admin_api', message_id: expect.stringMatching(/^adm:\d+:0000:/) });
    expect(p.email).toEqual(p.cf_tier);
    expect(p.external_account).toMatchObject({ source: 'user_hash', message_id: 'w-hash' });
    // The link to the account has its own origin (several accounts per person: docs/API.md).
    expect(p['external_accounts.pat-co']).toEqual(p.external_account);
    expect(Date.parse(p.timezone.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(Object.keys(p).sort()).toEqual(
      [
        'app_version',
        'cf_tier',
        'email',
        'external_account',
        'external_accounts.pat-co',
        'name',
        'timezone',
        'type',
      ].sort(),
    );

    expect(page.external_accounts).toEqual([
      expect.objectContaining({ id: 'pat-co', plan: 'Team', mrr_cents: 5000, users_count: 1, feedback_count: 1 }),
    ]);
    const ap = page.external_accounts[0].provenance;
    expect(ap.plan).toMatchObject({ source: 'user_hash', message_id: 'w-hash' });
    expect(ap.mrr_cents).toMatchObject({ source: 'admin_api', message_id: null });
    expect(page.feedback).toEqual([expect.objectContaining({ body: 'Hi', mrr_cents_at: 5000, source: 'api' })]);
  });

  it('pages their feedback newest first by when it was given, by page and by cursor', async () => {
    const user = (
      await admin('POST', '/external_users/import', { users: [{ external_id: 'hist-1', email: 'h@acme.test' }] })
    ).json.users[0];
    const times = [1_500_000_000, 1_700_000_000, 1_600_000_000, 1_650_000_000, 1_550_000_000];
    const res = await admin('POST', '/feedback', {
      feedback: times.map((t, i) => ({ kind: 'comment', body: `c${i}`, external_id: 'hist-1', created_at: t })),
    });
    expect(res.status).toBe(201);
    const first = await get(`/users/${user.id}?per_page=2`);
    expect(first.feedback.map((f: { body: string }) => f.body)).toEqual(['c1', 'c3']);
    expect(first.pagination).toMatchObject({ page: 1, total_records: 5, total_pages: 3 });
    const bodies: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/users/${user.id}?per_page=2${cursor ? `&after=${cursor}` : ''}`);
      bodies.push(...page.feedback.map((f: { body: string }) => f.body));
      cursor = page.pagination.next;
    } while (cursor);
    expect(bodies).toEqual(['c1', 'c3', 'c2', 'c4', 'c0']);
    expect((await get(`/users/${user.id}?page=3&per_page=2`)).feedback.map((f: { body: string }) => f.body)).toEqual([
      'c0',
    ]);
  });

  it.each([
    ['/users/u_nobody', 404, 'not_found', 'id'],
    ['/users/u_x?per_page=500', 404, 'not_found', 'id'],
    ['/users/u_%00x', 404, 'not_found', 'id'],
  ])('answers %s with %i', async (path, status, type, field) => {
    const res = await admin('GET', path);
    expect([res.status, res.json.errors.type, res.json.errors.details[0].field]).toEqual([status, type, field]);
  });

  it('refuses bad paging of a known user with 400 naming the parameter', async () => {
    const id = (await userOf('pat@acme.test')).id;
    for (const [query, field] of [
      ['per_page=500', 'per_page'],
      ['after=garbage', 'after'],
      ['page=2&after=x', 'page'],
    ]) {
      const res = await admin('GET', `/users/${id}?${query}`);
      expect([res.status, res.json.errors.details[0].field]).toEqual([400, field]);
    }
    // A cursor of another listing (users in creation order) is not one of this one.
    const other = (await get('/users?per_page=1')).pagination.next;
    expect((await admin('GET', `/users/${id}?after=${other}`)).status).toBe(400);
  });
});

describe('GET /api/v2/admin/external_users', () => {
  it('pages every external user once, filtered by user and by account', async () => {
    await admin('POST', '/external_users/import', {
      users: Array.from({ length: 5 }, (_, i) => ({
        external_id: `list-${i}`,
        email: i < 3 ? 'lister@acme.test' : `lister${i}@acme.test`,
        account: { external_id: i % 2 ? 'list-odd' : 'list-even' },
      })),
    });
    const lister = await userOf('lister@acme.test');
    const walk = async (query: string) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await get(`/external_users?per_page=2&${query}${cursor ? `&after=${cursor}` : ''}`);
        ids.push(...page.external_users.map((e: { external_id: string }) => e.external_id));
        cursor = page.pagination.next;
      } while (cursor);
      return ids;
    };
    expect(await walk(`user_id=${lister.id}`)).toEqual(['list-0', 'list-1', 'list-2']);
    expect(await walk('account=list-odd')).toEqual(['list-1', 'list-3']);
    expect(await walk(`account=list-even&user_id=${lister.id}`)).toEqual(['list-0', 'list-2']);
    const all = await walk('');
    expect(all.filter((id) => id.startsWith('list-'))).toEqual(['list-0', 'list-1', 'list-2', 'list-3', 'list-4']);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength((await get('/stats')).external_users);
    const one = await get('/external_users?account=list-odd&per_page=1');
    expect(one.external_users[0]).toMatchObject({ external_id: 'list-1', links: { external_account: 'list-odd' } });
    expect(one.pagination).toMatchObject({ total_records: 2, total_pages: 2 });
  });

  it('refuses bad parameters with 400 naming them', async () => {
    for (const [query, field] of [
      ['per_page=0', 'per_page'],
      ['after=%7B', 'after'],
      [`user_id=${'x'.repeat(300)}`, 'user_id'],
    ]) {
      const res = await admin('GET', `/external_users?${query}`);
      expect([res.status, res.json.errors.type, res.json.errors.details[0].field]).toEqual([
        400,
        'invalid_request',
        field,
      ]);
    }
  });
});

describe('PUT /api/v2/admin/external_users/:external_id/user', () => {
  it('moves an external user and its feedback; listings, counts and the emptied user follow', async () => {
    await admin('POST', '/external_users/import', {
      users: [
        { external_id: 'mv-1', email: 'one@move.test', account: { external_id: 'mv-co' } },
        { external_id: 'mv-2', email: 'two@move.test' },
        { external_id: 'mv-3', email: 'two@move.test' },
      ],
    });
    const one = await userOf('one@move.test');
    const two = await userOf('two@move.test');
    await admin('POST', '/feedback', { kind: 'comment', body: 'from mv-1', external_id: 'mv-1' });
    const before = await get('/stats');

    const res = await admin('PUT', '/external_users/mv-1/user', { user_id: two.id });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      external_user: { external_id: 'mv-1', links: { user: two.id, external_account: 'mv-co' } },
      user: { id: two.id, links: { external_users: ['mv-1', 'mv-2', 'mv-3'] } },
      previous_user: { id: one.id, deleted: true },
      feedback_moved: 1,
    });
    expect((await admin('GET', `/users/${one.id}`)).status).toBe(404);
    expect(await get('/stats')).toMatchObject({ users: before.users - 1, external_users: before.external_users });
    const page = await get(`/users/${two.id}`);
    expect(page.feedback.map((f: { body: string }) => f.body)).toEqual(['from mv-1']);
    expect(page.external_accounts.map((a: { id: string }) => a.id)).toEqual(['mv-co']);
    expect((await get(`/external_users?user_id=${two.id}`)).pagination.total_records).toBe(3);
    const listed = await get('/users?account=mv-co&includes=external_users');
    expect(listed.users.map((u: { id: string }) => u.id)).toEqual([two.id]);
    expect(
      (await get('/feedback?per_page=100')).feedback.find((f: { body: string }) => f.body === 'from mv-1').user.id,
    ).toBe(two.id);

    // A later email change, through every path that writes people, never moves it back.
    await admin('POST', '/bulk_identify', { identities: [{ id: 'mv-1', email: 'one@move.test' }] });
    await app.intake.drained();
    await admin('POST', '/external_users/import', { users: [{ external_id: 'mv-1', email: 'three@move.test' }] });
    await identify('mv-w', { id: 'mv-1', email: 'four@move.test' });
    await app.intake.drained();
    const again = await admin('POST', '/feedback', {
      kind: 'nps',
      score: 7,
      identity: { id: 'mv-1', email: 'five@move.test' },
    });
    expect(again.json.feedback.user.id).toBe(two.id);
    expect((await get('/external_users?account=mv-co')).external_users[0]).toMatchObject({
      email: 'five@move.test',
      links: { user: two.id },
    });
  });

  it('keeps a user that still has feedback of its own, and linking where it is changes nothing', async () => {
    // Feedback given with only an email makes the user; an import then attaches keep-1 to it.
    const byEmail = await app.call(
      'POST',
      '/api/widget/v1/acme/feedback',
      { message_id: 'keep-email-only', kind: 'comment', body: 'by email', email: 'keep@move.test' },
      { origin: ORIGIN },
    );
    expect(byEmail.status).toBe(201);
    await admin('POST', '/external_users/import', {
      users: [
        { external_id: 'keep-1', email: 'keep@move.test' },
        { external_id: 'keep-2', email: 'other@move.test' },
      ],
    });
    const keep = await userOf('keep@move.test');
    const other = await userOf('other@move.test');
    const moved = await admin('PUT', '/external_users/keep-1/user', { user_id: other.id });
    expect(moved.json).toMatchObject({ previous_user: { id: keep.id, deleted: false }, feedback_moved: 0 });
    expect((await get(`/users/${keep.id}`)).user.links.external_users).toEqual([]);
    const same = await admin('PUT', '/external_users/keep-1/user', { user_id: other.id });
    expect(same.json).toMatchObject({ previous_user: { id: other.id, deleted: false }, feedback_moved: 0 });
  });

  it.each([
    ['an unknown external user', '/external_users/nobody/user', { user_id: 'u_x' }, 404, 'external_id'],
    ['an unknown user', '/external_users/keep-2/user', { user_id: 'u_nobody' }, 404, 'user_id'],
    ['a body without user_id', '/external_users/keep-2/user', {}, 400, 'user_id'],
    ['a user_id that is not a string', '/external_users/keep-2/user', { user_id: 7 }, 400, 'user_id'],
    ['an external id with a control character', '/external_users/a%01b/user', { user_id: 'u_x' }, 400, 'external_id'],
  ])('refuses %s, naming the field, and moves nothing', async (_name, path, body, status, field) => {
    const before = await get('/external_users?per_page=100');
    const res = await admin('PUT', path, body);
    expect([res.status, res.json.errors.details[0].field]).toEqual([status, field]);
    expect(await get('/external_users?per_page=100')).toEqual(before);
  });

  it('refuses a request without the admin key', async () => {
    const res = await app.call('PUT', '/api/v2/admin/external_users/keep-2/user', { user_id: 'u_x' });
    expect([res.status, res.json.errors.type]).toEqual([401, 'unauthorized']);
  });
});
