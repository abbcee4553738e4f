/**
 * `POST /api/v2/admin/feedback` (docs/API.md#http-api) against the real app on a memory
 * store: a table of requests and what each must answer, then the flows — promotion of a
 * pending person, MRR at that moment, back-dated history, idempotency, and all-or-nothing
 * batches that write nothing when one item fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryApp, ORIGIN } from '../helpers/app.ts';

let app: Awaited<ReturnType<typeof memoryApp>>;
beforeAll(async () => {
  app = await memoryApp();
  // Known people: Ann (visible, through an import), Bob (identified, pending), an idea.
  await app.admin('POST', '/external_users/import', {
    users: [{ external_id: 'ann-1', email: 'ann@acme.test', account: { external_id: 'acme', mrr_cents: 9950 } }],
  });
  await app.admin('POST', '/bulk_identify', {
    identities: [{ id: 'bob-1', email: 'bob@beta.test', account: { id: 'beta', monthly_rate: 29 } }],
  });
  await app.intake.drained();
});
afterAll(async () => {
  await app.stop();
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  app.call('POST', '/api/v2/admin/feedback', body, { authorization: 'Bearer admin-key-for-tests-0001', ...headers });
const stats = async () => (await app.admin('GET', '/stats')).json;
const comment = { kind: 'comment', body: 'Exports are slow' };

interface Row {
  name: string;
  body: unknown;
  status: number;
  /** Expected error details as `index:field` (index omitted for a single item). */
  fields?: string[];
  headers?: Record<string, string>;
  type?: string;
}

const rows: Row[] = [
  { name: 'refuses an item that names no author', body: comment, status: 400, fields: ['user_id'] },
  {
    name: 'refuses an item that names its author twice',
    body: { ...comment, external_id: 'ann-1', email: 'ann@acme.test' },
    status: 400,
    fields: ['email'],
  },
  {
    name: 'refuses an idea without a title',
    body: { kind: 'idea', external_id: 'ann-1' },
    status: 400,
    fields: ['title'],
  },
  { name: 'refuses an unknown kind', body: { kind: 'rant', external_id: 'ann-1' }, status: 400, fields: ['kind'] },
  {
    name: 'refuses an NPS score out of range',
    body: { kind: 'nps', score: 11, external_id: 'ann-1' },
    status: 400,
    fields: ['score'],
  },
  {
    name: 'refuses a source that is not a short label',
    body: { ...comment, external_id: 'ann-1', source: 'sales call!' },
    status: 400,
    fields: ['source'],
  },
  {
    name: 'refuses a created_at in the future',
    body: { ...comment, external_id: 'ann-1', created_at: Math.floor(Date.now() / 1000) + 3600 },
    status: 400,
    fields: ['created_at'],
  },
  {
    name: 'refuses a created_at in milliseconds',
    body: { ...comment, external_id: 'ann-1', created_at: Date.now() },
    status: 400,
    fields: ['created_at'],
  },
  {
    name: 'refuses a malformed message_id',
    body: { ...comment, external_id: 'ann-1', message_id: 'has space' },
    status: 400,
    fields: ['message_id'],
  },
  {
    name: 'refuses an invalid identity, naming its field',
    body: { ...comment, identity: { id: 'x', email: 'nope' } },
    status: 400,
    fields: ['identity.email'],
  },
  {
    name: 'answers 404 naming user_id for an unknown user',
    body: { ...comment, user_id: 'u_nobody' },
    status: 404,
    type: 'not_found',
    fields: ['user_id'],
  },
  {
    name: 'answers 404 naming external_id for an unknown external id',
    body: { ...comment, external_id: 'nobody' },
    status: 404,
    type: 'not_found',
    fields: ['external_id'],
  },
  {
    name: 'answers 404 naming idea_id for support of an unknown idea',
    body: { kind: 'support', idea_id: 'fb_nope', external_id: 'ann-1' },
    status: 404,
    type: 'not_found',
    fields: ['idea_id'],
  },
  { name: 'refuses a batch that is not an array', body: { feedback: 'x' }, status: 400, fields: ['feedback'] },
  { name: 'refuses an empty batch', body: { feedback: [] }, status: 400, fields: ['feedback'] },
  {
    name: 'refuses a batch of 1001',
    body: { feedback: Array.from({ length: 1001 }, () => ({ ...comment, external_id: 'ann-1' })) },
    status: 400,
    fields: ['feedback'],
  },
  {
    name: 'answers 422 naming every bad item and field of a batch',
    body: {
      feedback: [
        { ...comment, external_id: 'ann-1' },
        { kind: 'nps', external_id: 'ann-1' },
        { ...comment, external_id: 'ann-1' },
        { ...comment, external_id: 'ann-1', source: '' },
      ],
    },
    status: 422,
    fields: ['1:score', '3:source'],
  },
  {
    name: 'answers 422 for a message_id repeated within a batch',
    body: {
      feedback: [
        { ...comment, external_id: 'ann-1', message_id: 'dup-1' },
        { ...comment, external_id: 'ann-1', message_id: 'dup-1' },
      ],
    },
    status: 422,
    fields: ['1:message_id'],
  },
  {
    name: 'answers 404 naming each unknown name of a batch',
    body: {
      feedback: [
        { ...comment, external_id: 'ann-1' },
        { ...comment, user_id: 'u_nobody' },
        { ...comment, external_id: 'nobody' },
      ],
    },
    status: 404,
    type: 'not_found',
    fields: ['1:user_id', '2:external_id'],
  },
  {
    name: 'refuses text/plain',
    body: 'x',
    status: 415,
    type: 'unsupported_media_type',
    headers: { 'content-type': 'text/plain' },
  },
  {
    name: 'refuses a request without the admin key',
    body: comment,
    status: 401,
    type: 'unauthorized',
    headers: { authorization: '' },
  },
];

describe('POST /api/v2/admin/feedback: what each request gets', () => {
  for (const row of rows) {
    it(row.name, async () => {
      const before = await stats();
      const res = await post(row.body, row.headers);
      expect(res.status).toBe(row.status);
      expect(res.json.errors.type).toBe(row.type ?? 'invalid_request');
      expect(res.text).not.toMatch(/at \w+ \(|\.ts:\d/);
      if (row.fields) {
        const got = (res.json.errors.details as { index?: number; field: string }[]).map((d) =>
          d.index === undefined ? d.field : `${d.index}:${d.field}`,
        );
        expect(got).toEqual(row.fields);
      }
      // Nothing of a refused request is written.
      expect(await stats()).toEqual(before);
    });
  }
});

describe('POST /api/v2/admin/feedback: recording', () => {
  it('promotes a pending person named by external id, with their account and its MRR now', async () => {
    expect((await app.admin('GET', '/users?q=bob@beta.test')).json.pagination.total_records).toBe(0);
    const res = await post({ kind: 'idea', title: 'Slack alerts', external_id: 'bob-1', source: 'Sales-Call' });
    expect(res.status).toBe(201);
    expect(res.json.feedback).toMatchObject({
      kind: 'idea',
      title: 'Slack alerts',
      source: 'sales-call',
      mrr_cents_at: 2900,
      user: { email: 'bob@beta.test' },
      external_user: { external_id: 'bob-1' },
      external_account: { id: 'beta', mrr_cents: 2900 },
    });
    expect(res.json.feedback.idea_id).toBe(res.json.feedback.id);
    const users = (await app.admin('GET', '/users?q=bob@beta.test')).json;
    expect(users.users.map((u: { email: string }) => u.email)).toEqual(['bob@beta.test']);
  });

  it('records back-dated history without back-dating the person, and defaults the source to api', async () => {
    const res = await post({ ...comment, identity: { id: 'cat-1', email: 'cat@acme.test' }, created_at: '2019-05-01' });
    expect(res.status).toBe(201);
    expect(res.json.feedback).toMatchObject({ created_at: '2019-05-01T00:00:00.000Z', source: 'api' });
    const user = (await app.admin('GET', `/users/${res.json.feedback.user.id}`)).json.user;
    expect(Date.parse(user.created_at)).toBeGreaterThan(Date.parse('2026-01-01'));
  });

  it('answers the same feedback for the same message_id, and records it once', async () => {
    const body = { kind: 'nps', score: 9, email: 'ann@acme.test', message_id: 'call-2026-12-01' };
    const first = await post(body);
    const before = await stats();
    const again = await post({ ...body, score: 2 });
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.json.feedback).toEqual(first.json.feedback);
    expect(await stats()).toEqual(before);
    // Ann's email names her user, who speaks through her external user and its account.
    expect(first.json.feedback).toMatchObject({ external_user: { external_id: 'ann-1' }, mrr_cents_at: 9950 });
  });

  it('records a batch in order, all of it, and a batch with one unknown name not at all', async () => {
    const ann = (await app.admin('GET', '/users?q=ann@acme.test')).json.users[0];
    const feedback = [
      { ...comment, user_id: ann.id, created_at: 1_600_000_000 },
      { kind: 'nps', score: 3, email: 'new-person@acme.test' },
      {
        kind: 'support',
        idea_id: (await post({ kind: 'idea', title: 'SSO', external_id: 'ann-1' })).json.feedback.id,
        external_id: 'bob-1',
      },
    ];
    const before = await stats();
    const refused = await post({ feedback: [...feedback, { ...comment, external_id: 'nobody' }] });
    expect(refused.status).toBe(404);
    expect(await stats()).toEqual(before);

    const res = await post({ feedback });
    expect(res.status).toBe(201);
    expect(res.json.feedback.map((f: { kind: string }) => f.kind)).toEqual(['comment', 'nps', 'support']);
    expect(res.json.feedback[1]).toMatchObject({ user: { email: 'new-person@acme.test' }, external_user: null });
    expect(await stats()).toMatchObject({ feedback: before.feedback + 3, users: before.users + 1 });
  });

  it('shows the admin API as the source of what it wrote on a site in off mode, where ranks do not say it', async () => {
    await app.call(
      'POST',
      '/api/widget/v1/acme/identify',
      {
        sent_at: Date.now(),
        identities: [
          { message_id: 'page-1', observed_at: Date.now(), id: 'eve-1', email: 'eve@acme.test', locale: 'de' },
        ],
      },
      { origin: ORIGIN },
    );
    await app.intake.drained();
    await app.admin('POST', '/external_users/import', {
      users: [{ external_id: 'eve-1', email: 'eve@acme.test', type: 'Admin' }],
    });
    const res = await post({
      ...comment,
      message_id: 'crm-note-9',
      identity: { id: 'eve-1', email: 'eve@acme.test', name: 'Eve' },
    });
    const p = (await app.admin('GET', `/users/${res.json.feedback.user.id}`)).json.external_users[0].provenance;
    expect(p.locale).toMatchObject({ source: 'unproven', message_id: 'page-1' });
    expect(p.type).toMatchObject({ source: 'admin_api', message_id: null });
    expect(p.name).toMatchObject({ source: 'admin_api', message_id: 'crm-note-9' });
  });

  it('checks an identity against the custom field definitions, and reports what did not fit', async () => {
    await app.admin('PUT', '/custom_fields', { custom_fields: [{ key: 'seats', object: 'user', type: 'number' }] });
    const res = await post({ ...comment, identity: { id: 'dan-1', email: 'dan@acme.test', cf_seats: 'many' } });
    expect(res.status).toBe(201);
    expect(res.json.warnings).toEqual([{ field: 'identity.cf_seats', message: expect.any(String) }]);
    const eus = (await app.admin('GET', '/external_users?user_id=' + res.json.feedback.user.id)).json.external_users;
    expect(eus[0].custom_fields).toEqual({});
  });
});
