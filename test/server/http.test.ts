/**
 * The collector's HTTP API (docs/API.md#http-api, docs/API.md#identify-semantics) against the real app on a memory store: a table
 * of requests and the status and envelope each must get, then the flows that span requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../../server/app.ts';
import { ADMIN_KEY, memoryApp, ORIGIN } from '../helpers/app.ts';

let app: Awaited<ReturnType<typeof memoryApp>>;
beforeAll(async () => {
  app = await memoryApp();
});
afterAll(async () => {
  await app.stop();
});

const now = () => Date.now();
const ann = {
  id: 'u1',
  email: 'ann@acme.test',
  name: 'Ann',
  account: { id: 'acme', name: 'Acme', monthly_rate: '99.50' },
};
const batch = (...identities: object[]) => ({
  sent_at: now(),
  identities: identities.map((i, n) => ({ message_id: `m-${Math.random()}-${n}`, observed_at: now(), ...i })),
});

interface Row {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  type?: string;
  field?: string;
  /** What the answer's body must contain (toMatchObject: arrays must match in length). */
  json?: unknown;
  /** What the envelope's message must say. */
  message?: RegExp;
}

const bearer = { authorization: `Bearer ${ADMIN_KEY}` };
const rows: Row[] = [
  {
    name: 'queues a widget identify sent as text/plain',
    method: 'POST',
    path: '/api/widget/v1/acme/identify',
    body: batch(ann),
    headers: { 'content-type': 'text/plain', origin: ORIGIN },
    status: 202,
    json: { status: 'queued', accepted: 1, rejected: [] },
  },
  {
    name: 'queues a widget identify sent as JSON',
    method: 'POST',
    path: '/api/widget/v1/acme/identify',
    body: batch(ann),
    headers: { origin: ORIGIN },
    status: 202,
    json: { status: 'queued', accepted: 1, rejected: [] },
  },
  {
    name: 'answers 404 for an unknown site',
    method: 'POST',
    path: '/api/widget/v1/nope/identify',
    body: batch(ann),
    status: 404,
    type: 'not_found',
  },
  {
    name: "refuses an origin that is not on the site's list",
    method: 'POST',
    path: '/api/widget/v1/acme/identify',
    body: batch(ann),
    headers: { origin: 'https://evil.test' },
    status: 403,
    type: 'forbidden',
  },
  {
    name: 'refuses form bodies with 415',
    method: 'POST',
    path: '/api/widget/v1/acme/identify',
    body: 'a=1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    type: 'unsupported_media_type',
  },
  {
    name: 'refuses compressed bodies with 415',
    method: 'POST',
    path: '/api/widget/v1/acme/identify',
    body: '{}',
    headers: { 'content-encoding': 'gzip' },
    status: 415,
    type: 'unsupported_media_type',
  },
  {
    name: 'refuses a body over 64 KB with 413',
    method: 'POST',
    path: '/api/widget/v1/acme/identify',
    body: JSON.stringify({ x: 'a'.repeat(70_000) }),
    status: 413,
    type: 'payload_too_large',
  },
  {
    name: 'refuses malformed JSON',
    method: 'POST',
    path: '/api/widget/v1/acme/identify',
    body: '{"sent_at": 1,',
    status: 400,
    type: 'invalid_request',
    field: '(body)',
  },
  {
    name: 'refuses a batch without identities',
    method: 'POST',
    path: '/api/widget/v1/acme/identify',
    body: { sent_at: 1, identities: [] },
    status: 400,
    field: 'identities',
  },
  {
    name: 'refuses a batch of 21 identities',
    method: 'POST',
    path: '/api/widget/v1/acme/identify',
    body: batch(...Array.from({ length: 21 }, (_, i) => ({ ...ann, id: `u${i}` }))),
    status: 400,
    field: 'identities',
  },
  {
    name: 'refuses a batch whose only identity is invalid, naming the field',
    method: 'POST',
    path: '/api/widget/v1/acme/identify',
    body: batch({ email: 'not-an-email' }),
    status: 400,
    field: 'email',
  },
  {
    name: 'refuses __proto__ keys',
    method: 'POST',
    path: '/api/widget/v1/acme/identify',
    body: '{"sent_at":1,"identities":[{"__proto__":{"admin":true},"email":"a@b.test"}]}',
    status: 400,
    field: 'identities.0.__proto__',
  },
  {
    name: 'refuses nesting 20,000 levels deep',
    method: 'POST',
    path: '/api/widget/v1/acme/identify',
    body: '['.repeat(20_000) + ']'.repeat(20_000),
    status: 400,
    field: '0.0.0.0.0.0.0.0',
  },
  {
    name: 'refuses numbers that overflow to Infinity',
    method: 'POST',
    path: '/api/widget/v1/acme/identify',
    body: '{"sent_at":1e999,"identities":[]}',
    status: 400,
    field: 'sent_at',
  },
  {
    name: 'records feedback',
    method: 'POST',
    path: '/api/widget/v1/acme/feedback',
    body: { message_id: 'fb-table-1', kind: 'idea', title: 'Dark mode', identity: ann },
    headers: { 'content-type': 'text/plain' },
    status: 201,
    // A new idea takes the id of the feedback that proposes it.
    json: {
      feedback: { message_id: 'fb-table-1', kind: 'idea', title: 'Dark mode', id: expect.stringMatching(/^fb_/) },
    },
  },
  {
    name: 'refuses feedback of an unknown kind',
    method: 'POST',
    path: '/api/widget/v1/acme/feedback',
    body: { message_id: 'x', kind: 'rant' },
    status: 400,
    field: 'kind',
  },
  {
    name: 'refuses an idea without a title',
    method: 'POST',
    path: '/api/widget/v1/acme/feedback',
    body: { message_id: 'x', kind: 'idea' },
    status: 400,
    field: 'title',
  },
  {
    name: 'refuses an NPS score of 11',
    method: 'POST',
    path: '/api/widget/v1/acme/feedback',
    body: { message_id: 'x', kind: 'nps', score: 11 },
    status: 400,
    field: 'score',
  },
  {
    name: 'refuses support for an idea that does not exist',
    method: 'POST',
    path: '/api/widget/v1/acme/feedback',
    body: { message_id: 'x', kind: 'support', idea_id: 'nope' },
    status: 400,
    field: 'idea_id',
  },
  {
    name: 'lists the ideas matching every word of q for the widget, with their supporters',
    method: 'GET',
    path: '/api/widget/v1/acme/ideas?q=MODE%20dark',
    headers: { origin: ORIGIN },
    status: 200,
    json: { ideas: [{ id: expect.stringMatching(/^fb_/), title: 'Dark mode', supporters_count: 1 }] },
  },
  {
    name: 'lists no idea when one word of q matches none',
    method: 'GET',
    path: '/api/widget/v1/acme/ideas?q=dark%20light',
    headers: { origin: ORIGIN },
    status: 200,
    json: { ideas: [] },
  },
  {
    name: 'refuses admin calls without a key',
    method: 'GET',
    path: '/api/v2/admin/users',
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'refuses admin calls with a wrong key',
    method: 'GET',
    path: '/api/v2/admin/users',
    headers: { authorization: 'Bearer wrong' },
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'ignores an admin key in the query string',
    method: 'GET',
    path: `/api/v2/admin/users?key=${ADMIN_KEY}&api_key=${ADMIN_KEY}`,
    status: 401,
    type: 'unauthorized',
  },
  {
    name: 'queues a bulk_identify',
    method: 'POST',
    path: '/api/v2/admin/bulk_identify',
    body: { identities: [ann] },
    headers: bearer,
    status: 202,
    json: { status: 'queued', accepted: 1, rejected: [] },
  },
  {
    name: 'refuses a bulk_identify of 1001 identities',
    method: 'POST',
    path: '/api/v2/admin/bulk_identify',
    body: { identities: Array.from({ length: 1001 }, () => ann) },
    headers: bearer,
    status: 400,
    field: 'identities',
  },
  {
    name: 'refuses a text/plain bulk_identify',
    method: 'POST',
    path: '/api/v2/admin/bulk_identify',
    body: JSON.stringify({ identities: [ann] }),
    headers: { ...bearer, 'content-type': 'text/plain' },
    status: 415,
    type: 'unsupported_media_type',
  },
  {
    name: 'refuses per_page over 100',
    method: 'GET',
    path: '/api/v2/admin/users?per_page=101',
    headers: bearer,
    status: 400,
    field: 'per_page',
  },
  {
    name: 'refuses page 0',
    method: 'GET',
    path: '/api/v2/admin/users?page=0',
    headers: bearer,
    status: 400,
    field: 'page',
  },
  {
    name: 'refuses a widget path with a bad %-encoding, naming the path',
    method: 'POST',
    path: '/api/widget/v1/%E0%A4%A/identify',
    body: batch(ann),
    headers: { origin: ORIGIN },
    status: 400,
    field: '(path)',
    message: /URL path/,
  },
  {
    name: 'refuses an admin path with a bad %-encoding, naming the path',
    method: 'DELETE',
    path: '/api/v2/admin/users/%ZZ',
    headers: bearer,
    status: 400,
    field: '(path)',
    message: /URL path/,
  },
  {
    name: 'answers health checks',
    method: 'GET',
    path: '/healthz',
    status: 200,
    json: { status: 'ok', queue: { depth: expect.any(Number) } },
  },
  { name: 'answers unknown routes with the envelope', method: 'GET', path: '/nope', status: 404, type: 'not_found' },
];

describe('the HTTP API', () => {
  it.each(rows)('$name', async (row) => {
    const res = await app.call(row.method, row.path, row.body, row.headers);
    expect(res.status).toBe(row.status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.text).not.toMatch(/at .*\.ts:\d+|node_modules|Error:/);
    if (row.status >= 400) {
      expect(res.json.errors.type).toBe(row.type ?? 'invalid_request');
      expect(typeof res.json.errors.message).toBe('string');
      if (row.field) expect(res.json.errors.details.map((d: { field: string }) => d.field)).toContain(row.field);
      if (row.message) expect(res.json.errors.message).toMatch(row.message);
    }
    if (row.json !== undefined) expect(res.json).toMatchObject(row.json as object);
  });
});

describe('identify over HTTP', () => {
  it('queues the valid identities of a batch and lists each rejected index with its fields', async () => {
    const res = await app.call(
      'POST',
      '/api/widget/v1/acme/identify',
      batch(
        { id: 'ok1', email: 'ok1@x.test' },
        { id: 'bad', email: 'nope', cf_Bad: 1 },
        { id: 'ok2', email: 'ok2@x.test', account: { monthly_rate: -5 } },
      ),
      { origin: ORIGIN },
    );
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ status: 'queued', accepted: 1 });
    expect(res.json.rejected.map((r: { index: number }) => r.index)).toEqual([1, 2]);
    expect(res.json.rejected[0].errors.map((e: { field: string }) => e.field)).toContain('email');
    expect(res.json.rejected[1].errors.map((e: { field: string }) => e.field)).toContain('account.monthly_rate');
  });

  it("answers CORS for the site's own origin, exposing Retry-After", async () => {
    const res = await app.call('POST', '/api/widget/v1/acme/identify', batch(ann), {
      'content-type': 'text/plain',
      origin: ORIGIN,
    });
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-expose-headers')).toContain('Retry-After');
  });

  it('writes nothing for a request from an unlisted origin', async () => {
    const before = (await app.admin('GET', '/stats')).json;
    await app.call('POST', '/api/widget/v1/acme/identify', batch({ id: 'evil', email: 'evil@x.test' }), {
      origin: 'https://evil.test',
    });
    await app.call(
      'POST',
      '/api/widget/v1/acme/feedback',
      { message_id: 'evil-fb', kind: 'idea', title: 'x', identity: { id: 'evil', email: 'evil@x.test' } },
      { origin: 'https://evil.test' },
    );
    await app.intake.drained();
    const after = (await app.admin('GET', '/stats')).json;
    expect(after).toEqual(before);
  });

  it('keeps a never-seen person out of the user listing until they give feedback, then shows them with their account', async () => {
    const carl = {
      id: 'carl',
      email: 'carl@globex.test',
      name: 'Carl',
      app_version: '4.2.0',
      location: { country: 'de', city: 'Berlin' },
      account: { id: 'globex', name: 'Globex', monthly_rate: 250, ltv: '3000.00' },
    };
    expect((await app.call('POST', '/api/widget/v1/acme/identify', batch(carl), { origin: ORIGIN })).status).toBe(202);
    await app.intake.drained();
    const listed = async () =>
      (await app.admin('GET', '/users?per_page=100&includes=external_users,external_accounts')).json;
    expect((await listed()).users.map((u: { email: string }) => u.email)).not.toContain('carl@globex.test');
    expect((await app.admin('GET', '/stats')).json.pending_identities).toBeGreaterThan(0);

    const fb = await app.call(
      'POST',
      '/api/widget/v1/acme/feedback',
      {
        message_id: 'carl-1',
        kind: 'idea',
        title: 'SSO',
        identity: { id: 'carl', email: 'carl@globex.test' },
        page_url: 'https://app.acme.test/settings',
      },
      { origin: ORIGIN },
    );
    expect(fb.status).toBe(201);
    const list = await listed();
    const user = list.users.find((u: { email: string }) => u.email === 'carl@globex.test');
    expect(user.links.external_users).toEqual(['carl']);
    expect(list.external_users.find((e: { external_id: string }) => e.external_id === 'carl')).toMatchObject({
      name: 'Carl',
      app_version: '4.2.0',
      location: { country: 'DE', city: 'Berlin' },
      links: { user: user.id, external_account: 'globex' },
    });
    expect(list.external_accounts.find((a: { external_id: string }) => a.external_id === 'globex')).toMatchObject({
      name: 'Globex',
      mrr_cents: 25000,
      ltv_cents: 300000,
    });

    const feedback = (await app.admin('GET', '/feedback')).json.feedback.find(
      (f: { message_id: string }) => f.message_id === 'carl-1',
    );
    expect(feedback).toMatchObject({
      mrr_cents_at: 25000,
      user: { email: 'carl@globex.test' },
      external_account: { external_id: 'globex' },
      page_url: 'https://app.acme.test/settings',
    });
  });

  it('returns the same feedback for the same message id', async () => {
    const body = { message_id: 'same-fb', kind: 'comment', body: 'Nice', identity: { id: 'dee', email: 'dee@x.test' } };
    const a = await app.call('POST', '/api/widget/v1/acme/feedback', body, { origin: ORIGIN });
    const b = await app.call('POST', '/api/widget/v1/acme/feedback', body, { origin: ORIGIN });
    expect(b.json.feedback.id).toBe(a.json.feedback.id);
    const all = (await app.admin('GET', '/feedback?per_page=100')).json.feedback;
    expect(all.filter((f: { message_id: string }) => f.message_id === 'same-fb')).toHaveLength(1);
  });

  it('ranks ideas by supporters with the distinct accounts and MRR behind them', async () => {
    const idea = await app.call(
      'POST',
      '/api/widget/v1/acme/feedback',
      {
        message_id: 'idea-x',
        kind: 'idea',
        title: 'Export to CSV',
        identity: { id: 'e1', email: 'e1@x.test', account: { id: 'ex', mrr_cents: 1000 } },
      },
      { origin: ORIGIN },
    );
    const ideaId = idea.json.feedback.idea_id;
    await app.call(
      'POST',
      '/api/widget/v1/acme/feedback',
      {
        message_id: 'sup-1',
        kind: 'support',
        idea_id: ideaId,
        identity: { id: 'e2', email: 'e2@x.test', account: { id: 'ex', mrr_cents: 1000 } },
      },
      { origin: ORIGIN },
    );
    await app.call(
      'POST',
      '/api/widget/v1/acme/feedback',
      {
        message_id: 'sup-2',
        kind: 'support',
        idea_id: ideaId,
        identity: { id: 'e3', email: 'e3@y.test', account: { id: 'why', mrr_cents: 500 } },
      },
      { origin: ORIGIN },
    );
    const ideas = (await app.admin('GET', '/ideas')).json.ideas;
    expect(ideas[0]).toMatchObject({
      id: ideaId,
      title: 'Export to CSV',
      supporters_count: 3,
      accounts_count: 2,
      mrr_cents: 1500,
    });
    const found = (await app.call('GET', '/api/widget/v1/acme/ideas?q=csv', undefined, { origin: ORIGIN })).json.ideas;
    expect(found[0]).toMatchObject({ id: ideaId, supporters_count: 3 });
  });

  it('applies a bulk_identify update to a visible user at once, and lists accounts with counts', async () => {
    await app.call(
      'POST',
      '/api/widget/v1/acme/feedback',
      {
        message_id: 'fay-1',
        kind: 'comment',
        body: 'hello',
        identity: { id: 'fay', email: 'fay@x.test', account: { id: 'fayco', mrr_cents: 100 } },
      },
      { origin: ORIGIN },
    );
    const res = await app.admin('POST', '/bulk_identify', {
      identities: [{ id: 'fay', email: 'fay@x.test', account: { id: 'fayco', monthly_rate: 42 } }],
    });
    expect(res.status).toBe(202);
    await app.intake.drained();
    const accounts = (await app.admin('GET', '/external_accounts?per_page=100')).json.external_accounts;
    expect(accounts.find((a: { external_id: string }) => a.external_id === 'fayco')).toMatchObject({
      mrr_cents: 4200,
      users_count: 1,
      feedback_count: 1,
    });
  });

  it('pages users with a pagination block: every visible user once, per_page at a time', async () => {
    const emails = ['page1@paging.test', 'page2@paging.test', 'page3@paging.test'];
    const imported = await app.admin('POST', '/external_users/import', {
      users: emails.map((email, i) => ({ external_id: `page-${i}`, email })),
    });
    expect(imported.status).toBe(200);
    const first = (await app.admin('GET', '/users?per_page=2&page=1')).json;
    const total = first.pagination.total_records;
    expect(total).toBeGreaterThanOrEqual(emails.length);
    expect(first.users).toHaveLength(2);
    expect(first.pagination).toEqual({
      page: 1,
      per_page: 2,
      total_pages: Math.ceil(total / 2),
      total_records: total,
      next: expect.any(String),
    });
    const seen: string[] = [];
    for (let page = 1; page <= first.pagination.total_pages; page++) {
      const res = (await app.admin('GET', `/users?per_page=2&page=${page}`)).json;
      expect(res.users).toHaveLength(page < first.pagination.total_pages ? 2 : total - 2 * (page - 1));
      seen.push(...res.users.map((u: { email: string }) => u.email));
    }
    expect(new Set(seen).size).toBe(total);
    expect(seen).toEqual(expect.arrayContaining(emails));
  });

  it('counts users, pending identities, accounts, feedback and the queue in stats', async () => {
    const stats = async () => (await app.admin('GET', '/stats')).json;
    await app.intake.drained();
    const before = await stats();
    expect(Object.keys(before).sort()).toEqual([
      'external_accounts',
      'external_users',
      'feedback',
      'pending_identities',
      'queue',
      'users',
    ]);
    // A person never seen before waits as pending...
    const gus = { id: 'gus', email: 'gus@stats.test', account: { id: 'gusco', mrr_cents: 300 } };
    expect((await app.admin('POST', '/bulk_identify', { identities: [gus] })).status).toBe(202);
    await app.intake.drained();
    expect(await stats()).toEqual({ ...before, pending_identities: before.pending_identities + 1 });
    // ...until their feedback makes them, their external user and their account visible.
    const fb = await app.call(
      'POST',
      '/api/widget/v1/acme/feedback',
      { message_id: 'stats-fb', kind: 'comment', body: 'Counted', identity: { id: 'gus', email: 'gus@stats.test' } },
      { origin: ORIGIN },
    );
    expect(fb.status).toBe(201);
    await app.intake.drained();
    expect(await stats()).toEqual({
      users: before.users + 1,
      pending_identities: before.pending_identities,
      external_users: before.external_users + 1,
      external_accounts: before.external_accounts + 1,
      feedback: before.feedback + 1,
      queue: { depth: 0 },
    });
  });
});

describe('bulk_identify on several collectors', () => {
  it('gives identities without a message_id ids no other collector makes, even in the same millisecond', async () => {
    // Two collectors on one store and intake (as on one database), their clocks on the same ms.
    const one = await memoryApp(() => 1_000);
    const two = createApp({
      store: one.store,
      intake: one.intake,
      clock: () => 1_000,
      logger: pino({ level: 'silent' }),
    });
    const server = two.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    try {
      const send = (url: string, who: string[]) =>
        fetch(`${url}/api/v2/admin/bulk_identify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
          body: JSON.stringify({ identities: who.map((id) => ({ id, email: `${id}@acme.test` })) }),
        });
      expect((await send(one.url, ['a1', 'a2'])).status).toBe(202);
      expect((await send(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, ['b1', 'b2'])).status).toBe(202);
      await one.intake.drained();
      for (const id of ['a1', 'a2', 'b1', 'b2']) expect(await one.store.getPending('acme', id), id).toBeDefined();
    } finally {
      server.close();
      await one.stop();
    }
  });
});
