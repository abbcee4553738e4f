/**
 * Segments over HTTP (docs/API.md#segments) against the real app on a memory store: every filter
 * parameter on the lists that take it and its 400s, ideas ranked within a segment, NPS, the
 * totals behind filtered feedback, saved segments, and CSV export of every list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../shared/csv.ts';
import { ADMIN_KEY, memoryApp } from '../helpers/app.ts';

/** CSV text as objects by its header: the import CLI's parser reads back what we wrote. */
function parse(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

let app: Awaited<ReturnType<typeof memoryApp>>;
const DAY = 86_400;
const T0 = Date.UTC(2026, 0, 5) / 1000; // a Monday

const admin = (method: string, path: string, body?: unknown) => app.admin(method, path, body);
const get = async (path: string) => {
  const res = await admin('GET', path);
  expect(res.status, `${path}: ${res.text}`).toBe(200);
  return res.json;
};

const people = {
  ann: {
    id: 'ann',
    email: 'ann@acme.test',
    type: 'Owner',
    cf_persona: 'developer',
    app_version: '4.2.0',
    location: { country: 'DE' },
    account: { id: 'acme', plan: 'Enterprise', monthly_rate: 1250, ltv: 30000, cf_region: 'EU' },
  },
  bob: {
    id: 'bob',
    email: 'bob@beta.test',
    type: 'Member',
    cf_persona: 'manager',
    app_version: '4.1.0',
    location: { country: 'US' },
    account: { id: 'beta', plan: 'Team', monthly_rate: 99.5, ltv: 1200, cf_region: 'US' },
  },
  cy: {
    id: 'cy',
    email: 'cy@gamma.test',
    type: 'Member',
    cf_persona: 'developer',
    app_version: '4.2.0',
    location: { country: 'FR' },
    account: { id: 'gamma', plan: 'Starter', monthly_rate: 29, ltv: 100, cf_region: 'EU' },
  },
};

/** Message ids of the seeded feedback, by who and what. */
let ideaDark: string;
let ideaExport: string;

async function feedback(who: keyof typeof people, item: Record<string, unknown>, day: number) {
  const res = await admin('POST', '/feedback', { identity: people[who], created_at: T0 + day * DAY, ...item });
  expect(res.status, res.text).toBe(201);
  return res.json.feedback;
}

beforeAll(async () => {
  app = await memoryApp();
  ideaDark = (await feedback('ann', { message_id: 'ann-idea', kind: 'idea', title: 'Dark mode' }, 0)).idea_id;
  await feedback('bob', { message_id: 'bob-support', kind: 'support', idea_id: ideaDark }, 1);
  ideaExport = (await feedback('cy', { message_id: 'cy-idea', kind: 'idea', title: 'Export' }, 2)).idea_id;
  await feedback('ann', { message_id: 'ann-nps', kind: 'nps', score: 10 }, 3);
  await feedback('bob', { message_id: 'bob-nps', kind: 'nps', score: 3 }, 4);
  await feedback('cy', { message_id: 'cy-nps', kind: 'nps', score: 8 }, 9);
  await feedback('bob', { message_id: 'bob-comment', kind: 'comment', body: '=SUM(A1)', source: 'support' }, 10);
  // Bob's account grows after he gave his feedback: "then" and "now" differ for him.
  const grown = await admin('POST', '/external_accounts/import', {
    accounts: [{ external_id: 'beta', mrr_cents: 500000, plan: 'Enterprise' }],
  });
  expect(grown.status, grown.text).toBe(200);
});
afterAll(async () => {
  await app.stop();
});

const ids = (list: { message_id: string }[]) => list.map((f) => f.message_id).sort();

describe('the filter language on GET /feedback', () => {
  const all = ['ann-idea', 'ann-nps', 'bob-comment', 'bob-nps', 'bob-support', 'cy-idea', 'cy-nps'];
  const cases: [string, string[]][] = [
    ['', all],
    ['type=Owner', ['ann-idea', 'ann-nps']],
    ['type=Owner&type=Member', all],
    ['cf_persona=developer', ['ann-idea', 'ann-nps', 'cy-idea', 'cy-nps']],
    ['app_version=4.1.0', ['bob-comment', 'bob-nps', 'bob-support']],
    ['country=FR&country=DE', ['ann-idea', 'ann-nps', 'cy-idea', 'cy-nps']],
    ['account.plan=Enterprise', ['ann-idea', 'ann-nps', 'bob-comment', 'bob-nps', 'bob-support']],
    ['account.plan=Enterprise&as=then', ['ann-idea', 'ann-nps']],
    ['account.plan=Team', []],
    ['account.plan=Team&as=then', ['bob-comment', 'bob-nps', 'bob-support']],
    ['account.cf_region=EU&type=Member', ['cy-idea', 'cy-nps']],
    ['account.mrr_cents_gte=10000', ['ann-idea', 'ann-nps', 'bob-comment', 'bob-nps', 'bob-support']],
    ['account.mrr_cents_gte=10000&as=then', ['ann-idea', 'ann-nps']],
    ['account.mrr_cents_lte=9950&as=then', ['bob-comment', 'bob-nps', 'bob-support', 'cy-idea', 'cy-nps']],
    ['account.mrr_cents_gte=2900&account.mrr_cents_lte=2900', ['cy-idea', 'cy-nps']],
    ['account.ltv_cents_gte=120000', ['ann-idea', 'ann-nps', 'bob-comment', 'bob-nps', 'bob-support']],
    ['account.ltv_cents_lte=10000', ['cy-idea', 'cy-nps']],
    ['kind=nps', ['ann-nps', 'bob-nps', 'cy-nps']],
    ['kind=idea&kind=support', ['ann-idea', 'bob-support', 'cy-idea']],
    ['source=support', ['bob-comment']],
    [`created_after=${T0 + 3 * DAY}`, ['bob-comment', 'bob-nps', 'cy-nps']],
    [`created_before=2026-01-06`, ['ann-idea']],
    ['score_gte=8', ['ann-nps', 'cy-nps']],
    ['score_lte=7', ['bob-nps']],
    ['account.plan=Nope', []],
  ];
  it.each(cases)('%s', async (query, expected) => {
    const body = await get(`/feedback?per_page=100&${query}`);
    expect(ids(body.feedback)).toEqual(expected);
    expect(body.pagination.total_records).toBe(expected.length);
  });

  it('pages a segment by cursor, and refuses a cursor made under another segment', async () => {
    const first = await get('/feedback?kind=nps&per_page=2');
    expect(first.feedback.map((f: { message_id: string }) => f.message_id)).toEqual(['cy-nps', 'bob-nps']);
    const second = await get(`/feedback?kind=nps&per_page=2&after=${first.pagination.next}`);
    expect(ids(second.feedback)).toEqual(['ann-nps']);
    const other = await admin('GET', `/feedback?kind=idea&per_page=2&after=${first.pagination.next}`);
    expect(other.status).toBe(400);
    expect(other.json.errors.details[0].field).toBe('after');
  });

  it('says what stands behind filtered feedback: distinct accounts and their MRR now', async () => {
    expect((await get('/feedback?account.cf_region=EU')).segment).toEqual({
      feedback_count: 4,
      accounts_count: 2,
      mrr_cents: 125000 + 2900,
    });
    expect((await get('/feedback')).segment).toBeUndefined();
  });

  const bad: [string, string][] = [
    ['colour=red', 'colour'],
    ['account.colour=red', 'account.colour'],
    ['cf_Bad=1', 'cf_Bad'],
    ['account.mrr_cents_gte=ten', 'account.mrr_cents_gte'],
    ['account.mrr_cents_gte=1&account.mrr_cents_gte=2', 'account.mrr_cents_gte'],
    ['account.ltv_cents_lte=-5', 'account.ltv_cents_lte'],
    ['kind=praise', 'kind'],
    ['created_after=yesterday', 'created_after'],
    ['created_before=2026-13-45', 'created_before'],
    ['score_gte=11', 'score_gte'],
    ['score_lte=1.5', 'score_lte'],
    ['as=later', 'as'],
    ['type=%01', 'type'],
    [`country=${'x'.repeat(256)}`, 'country'],
    ['segment=nope', 'segment'],
    ['format=xml', 'format'],
  ];
  it.each(bad)('400 for %s naming %s', async (query, field) => {
    const res = await admin('GET', `/feedback?${query}`);
    expect(res.status).toBe(400);
    expect(res.json.errors.type).toBe('invalid_request');
    expect(res.json.errors.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(res.text).not.toMatch(/at .*\.ts/);
  });
});

describe('the filter language on the other lists', () => {
  it('filters users by one external user and its account', async () => {
    const emails = async (q: string) => (await get(`/users?${q}`)).users.map((u: { email: string }) => u.email).sort();
    expect(await emails('type=Member')).toEqual(['bob@beta.test', 'cy@gamma.test']);
    expect(await emails('account.cf_region=EU&cf_persona=developer')).toEqual(['ann@acme.test', 'cy@gamma.test']);
    expect(await emails('account.mrr_cents_gte=100000&type=Member')).toEqual(['bob@beta.test']);
    expect(await emails('country=US&sort=-email')).toEqual(['bob@beta.test']);
    const res = await admin('GET', '/users?kind=nps');
    expect(res.status).toBe(400);
    expect(res.json.errors.details[0].field).toBe('kind');
  });

  it('filters accounts by their own fields and refuses user fields', async () => {
    const keys = async (q: string) =>
      (await get(`/external_accounts?${q}`)).external_accounts.map((a: { id: string }) => a.id).sort();
    expect(await keys('account.plan=Enterprise&account.plan=Starter')).toEqual(['acme', 'beta', 'gamma']);
    expect(await keys('account.plan=Starter')).toEqual(['gamma']);
    expect(await keys('account.cf_region=EU&sort=-mrr_cents')).toEqual(['acme', 'gamma']);
    expect(await keys('account.ltv_cents_gte=20000&account.ltv_cents_lte=150000')).toEqual(['beta']);
    const res = await admin('GET', '/external_accounts?type=Owner');
    expect(res.status).toBe(400);
    expect(res.json.errors.details[0].field).toBe('type');
  });

  it("filters a person's feedback", async () => {
    const bob = (await get('/users?q=bob')).users[0];
    expect(ids((await get(`/users/${bob.id}?kind=nps`)).feedback)).toEqual(['bob-nps']);
    expect(ids((await get(`/users/${bob.id}?source=support`)).feedback)).toEqual(['bob-comment']);
    const res = await admin('GET', `/users/${bob.id}?score_gte=x`);
    expect(res.status).toBe(400);
    expect(res.json.errors.details[0].field).toBe('score_gte');
  });
});

describe('ideas ranked within a segment', () => {
  it('counts only the segment supporters, by supporters, accounts or MRR', async () => {
    const all = await get('/ideas');
    expect(all.ideas.map((i: { id: string }) => i.id)).toEqual([ideaDark, ideaExport]);
    expect(all.ideas[0]).toMatchObject({ supporters_count: 2, accounts_count: 2, mrr_cents: 125000 + 500000 });

    const eu = await get('/ideas?account.cf_region=EU&sort=mrr');
    expect(eu.ideas).toEqual([
      expect.objectContaining({ id: ideaDark, supporters_count: 1, accounts_count: 1, mrr_cents: 125000 }),
      expect.objectContaining({ id: ideaExport, supporters_count: 1, accounts_count: 1, mrr_cents: 2900 }),
    ]);
    // An idea no one in the segment supports is not in its ranking.
    const us = await get('/ideas?account.cf_region=US&sort=accounts');
    expect(us.ideas.map((i: { id: string }) => i.id)).toEqual([ideaDark]);
    expect(us.ideas[0]).toMatchObject({ supporters_count: 1, mrr_cents: 500000 });
    const bad = await admin('GET', '/ideas?sort=revenue');
    expect(bad.status).toBe(400);
    expect(bad.json.errors.details[0].field).toBe('sort');
  });
});

describe('GET /nps', () => {
  it('scores the segment and its weeks', async () => {
    expect(await get('/nps')).toEqual({
      score: 0,
      promoters: 1,
      passives: 1,
      detractors: 1,
      responses: 3,
      weekly: [
        { week: '2026-01-05', score: 0, promoters: 1, passives: 0, detractors: 1, responses: 2 },
        { week: '2026-01-12', score: 0, promoters: 0, passives: 1, detractors: 0, responses: 1 },
      ],
    });
    expect(await get('/nps?account.cf_region=EU')).toMatchObject({
      score: 50,
      promoters: 1,
      passives: 1,
      responses: 2,
    });
    expect(await get('/nps?account.plan=None')).toMatchObject({ score: null, responses: 0, weekly: [] });
    const res = await admin('GET', '/nps?page=2');
    expect(res.status).toBe(400);
    expect(res.json.errors.details[0].field).toBe('page');
  });
});

describe('saved segments', () => {
  it('saves, lists, applies, replaces and deletes a segment', async () => {
    expect((await admin('GET', '/segments/eu-devs')).status).toBe(404);
    const put = await admin('PUT', '/segments/eu-devs', {
      filters: { 'account.cf_region': ['EU'], cf_persona: ['developer'] },
    });
    expect(put.status).toBe(201);
    expect(put.json.segment).toEqual({
      name: 'eu-devs',
      filters: { 'account.cf_region': ['EU'], cf_persona: ['developer'] },
    });
    expect((await get('/segments')).segments.map((s: { name: string }) => s.name)).toEqual(['eu-devs']);
    expect(ids((await get('/feedback?segment=eu-devs&kind=nps')).feedback)).toEqual(['ann-nps', 'cy-nps']);
    expect((await get('/users?segment=eu-devs')).users).toHaveLength(2);
    // A parameter given with the segment wins over the saved one.
    expect(ids((await get('/feedback?segment=eu-devs&cf_persona=manager')).feedback)).toEqual([]);

    expect((await admin('PUT', '/segments/eu-devs', { filters: { kind: ['nps'] } })).status).toBe(200);
    expect((await get('/segments/eu-devs')).segment.filters).toEqual({ kind: ['nps'] });
    // Saved feedback filters do not apply to accounts: named as the segment's fault.
    const accounts = await admin('GET', '/external_accounts?segment=eu-devs');
    expect(accounts.status).toBe(400);
    expect(accounts.json.errors.details[0]).toMatchObject({
      field: 'segment',
      message: expect.stringContaining('kind'),
    });

    expect((await admin('DELETE', '/segments/eu-devs')).status).toBe(204);
    expect((await admin('DELETE', '/segments/eu-devs')).status).toBe(404);
    expect((await admin('GET', '/segments/eu-devs')).status).toBe(404);
    expect((await get('/segments')).segments).toEqual([]);
  });

  const bad: [string, unknown, string][] = [
    ['/segments/ok', { filters: { colour: ['red'] } }, 'filters.colour'],
    ['/segments/ok', { filters: { score_gte: ['eleven'] } }, 'filters.score_gte'],
    ['/segments/ok', { filters: { kind: [] } }, 'filters.kind'],
    ['/segments/ok', { filters: { kind: 'nps' } }, 'filters.kind'],
    ['/segments/ok', { filter: {} }, 'filters'],
    ['/segments/has%20space', { filters: {} }, 'name'],
    ['/segments/-dash', { filters: {} }, 'name'],
  ];
  it.each(bad)('PUT %s %j is a 400 naming %s', async (path, body, field) => {
    const res = await admin('PUT', path, body);
    expect(res.status).toBe(400);
    expect(res.json.errors.details.map((d: { field: string }) => d.field)).toContain(field);
    expect((await get('/segments')).segments).toEqual([]);
  });
});

describe('CSV export', () => {
  const csv = async (path: string, headers: Record<string, string> = {}) => {
    const res = await app.call('GET', '/api/v2/admin' + path, undefined, {
      authorization: `Bearer ${ADMIN_KEY}`,
      ...headers,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    return parse(res.text);
  };

  it('exports filtered feedback with format=csv or Accept: text/csv, cells neutralised', async () => {
    const rows = await csv('/feedback?source=support&format=csv');
    expect(rows).toEqual([
      expect.objectContaining({ id: expect.any(String), kind: 'comment', body: "'=SUM(A1)", account_id: 'beta' }),
    ]);
    const byAccept = await csv('/feedback?kind=nps', { accept: 'text/csv' });
    expect(byAccept.map((r) => r.score).sort()).toEqual(['10', '3', '8']);
  });

  it('exports every list', async () => {
    expect((await csv('/users?format=csv&type=Member')).map((r) => r.email).sort()).toEqual([
      'bob@beta.test',
      'cy@gamma.test',
    ]);
    expect((await csv('/external_accounts?format=csv&sort=-mrr_cents')).map((r) => r.id)).toEqual([
      'beta',
      'acme',
      'gamma',
    ]);
    expect(await csv('/ideas?format=csv&sort=mrr&account.cf_region=EU')).toEqual([
      expect.objectContaining({ title: 'Dark mode', mrr_cents: '125000', supporters_count: '1' }),
      expect.objectContaining({ title: 'Export', mrr_cents: '2900' }),
    ]);
    const bob = (await get('/users?q=bob')).users[0];
    expect((await csv(`/users/${bob.id}?format=csv`)).map((r) => r.kind).sort()).toEqual(['comment', 'nps', 'support']);
  });
});

describe('CSV export of a long list', () => {
  it('streams every page, in the list order, under the filters', async () => {
    const big = await memoryApp();
    try {
      // 1,234 feedback: more than two of the export's store pages (EXPORT_PAGE = 500).
      for (let start = 0; start < 1234; start += 617) {
        const res = await big.admin('POST', '/feedback', {
          feedback: Array.from({ length: 617 }, (_, j) => ({
            message_id: `c-${start + j}`,
            kind: (start + j) % 2 ? 'comment' : 'nps',
            ...((start + j) % 2 ? { body: `note ${start + j}` } : { score: (start + j) % 11 }),
            identity: {
              id: `p${(start + j) % 7}`,
              email: `p${(start + j) % 7}@x.test`,
              type: (start + j) % 7 ? 'Member' : 'Owner',
            },
          })),
        });
        expect(res.status, res.text).toBe(201);
      }
      const res = await big.call('GET', '/api/v2/admin/feedback?format=csv&kind=comment', undefined, {
        authorization: `Bearer ${ADMIN_KEY}`,
      });
      const rows = parse(res.text);
      const want = Array.from({ length: 1234 }, (_, i) => i)
        .filter((i) => i % 2)
        .reverse()
        .map((i) => `note ${i}`);
      expect(rows.map((r) => r.body)).toEqual(want);
      const owners = parse(
        (
          await big.call('GET', '/api/v2/admin/feedback?type=Owner', undefined, {
            authorization: `Bearer ${ADMIN_KEY}`,
            accept: 'text/csv',
          })
        ).text,
      );
      expect(owners).toHaveLength(Array.from({ length: 1234 }, (_, i) => i).filter((i) => i % 7 === 0).length);
    } finally {
      await big.stop();
    }
  }, 60_000);
});
