/**
 * Listings worth using (docs/API.md#http-api): user filters and orders, accounts with their counts and
 * money, and paging that is stable — walking every page shows each record exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type TestCollector } from '../helpers/collector.ts';

let c: TestCollector;
let importedAt: number;

async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(c.url + path, {
    method,
    headers: {
      authorization: `Bearer ${c.adminKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

beforeAll(async () => {
  c = await startCollector();
  const users = Array.from({ length: 250 }, (_, i) => ({
    external_id: `l-${i}`,
    email: `person${String(i).padStart(3, '0')}@list.test`,
    name: `Person ${String(249 - i).padStart(3, '0')}`,
    type: i % 5 === 0 ? 'Owner' : 'Member',
    tags: i % 50 === 0 ? ['champion'] : [],
    account: {
      external_id: `acct-${i % 4}`,
      name: `Account ${i % 4}`,
      mrr_cents: (i % 4) * 10_000,
      ltv_cents: (4 - (i % 4)) * 1000,
    },
  }));
  expect((await send('POST', '/api/v2/admin/external_users/import', { users })).status).toBe(200);
  importedAt = Date.now();
  await new Promise((r) => setTimeout(r, 20));
  expect(
    (
      await send('POST', '/api/v2/admin/external_users/import', {
        users: [{ external_id: 'l-7', email: 'person007@list.test', name: 'Renamed Seven' }],
      })
    ).status,
  ).toBe(200);
  // Feedback from one member of acct-1 and one of acct-2, for the accounts' feedback counts.
  for (const [id, email] of [
    ['l-1', 'person001@list.test'],
    ['l-5', 'person005@list.test'],
    ['l-2', 'person002@list.test'],
  ]) {
    const res = await send(
      'POST',
      '/api/widget/v1/demo/feedback',
      { message_id: `fb-${id}`, kind: 'idea', title: `Idea of ${id}`, identity: { id, email } },
      { origin: c.url },
    );
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  await c.stop();
});

const users = (query: string) => c.admin('/users?' + query);

describe('GET /users', () => {
  it('walks every page once, in a stable order, with a pagination block', async () => {
    const seen: string[] = [];
    let pages = 0;
    for (let page = 1; ; page++) {
      const res = await users(`per_page=100&page=${page}`);
      expect(res.pagination).toEqual({
        page,
        per_page: 100,
        total_pages: 3,
        total_records: 250,
        next: page < 3 ? expect.any(String) : null,
      });
      if (res.users.length === 0) break;
      seen.push(...res.users.map((u: any) => u.id));
      pages++;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(250);
    expect((await users('per_page=100&page=2')).users.map((u: any) => u.id)).toEqual(seen.slice(100, 200));
  });

  it('walks every page by cursor (after = pagination.next) in the same order as by page number', async () => {
    const byPage: string[] = [];
    for (let page = 1; page <= 3; page++)
      byPage.push(...(await users(`per_page=100&page=${page}`)).users.map((u: any) => u.id));
    for (const sort of ['', 'sort=-name&', 'sort=updated_at&', 'q=person1&sort=email&']) {
      const seen: string[] = [];
      let res = await users(`${sort}per_page=40`);
      const total = res.pagination.total_records;
      for (;;) {
        seen.push(...res.users.map((u: any) => u.id));
        if (res.pagination.next === null) break;
        expect(res.users).toHaveLength(40);
        res = await users(`${sort}per_page=40&after=${res.pagination.next}`);
        expect(res.pagination).toMatchObject({ page: null, per_page: 40, total_records: total });
      }
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
      const offsets = [];
      for (let page = 1; page <= Math.ceil(total / 40); page++)
        offsets.push(...(await users(`${sort}per_page=40&page=${page}`)).users.map((u: any) => u.id));
      expect(seen).toEqual(offsets);
      if (!sort) expect(seen).toEqual(byPage);
    }
  });

  it('refuses a cursor that is not one, belongs to another order, or comes with page', async () => {
    const next = (await users('per_page=5')).pagination.next as string;
    const status = async (query: string) => {
      const res = await fetch(`${c.url}/api/v2/admin/users?${query}`, {
        headers: { authorization: `Bearer ${c.adminKey}` },
      });
      const body = (await res.json()) as any;
      return [res.status, body.errors?.details?.[0]?.field];
    };
    expect(await status(`after=${next}&sort=name`)).toEqual([400, 'after']);
    expect(await status('after=not-a-cursor')).toEqual([400, 'after']);
    expect(await status(`after=${Buffer.from('{"o":"","k":[{"x":1}]}').toString('base64url')}`)).toEqual([
      400,
      'after',
    ]);
    expect(await status(`after=${Buffer.from('{"o":"","k":[1,2,3]}').toString('base64url')}`)).toEqual([400, 'after']);
    expect(await status(`after=${next}&page=2`)).toEqual([400, 'page']);
    expect(await status(`after=${next}`)).toEqual([200, undefined]);
  });

  it('refuses per_page above 100', async () => {
    const res = await fetch(`${c.url}/api/v2/admin/users?per_page=101`, {
      headers: { authorization: `Bearer ${c.adminKey}` },
    });
    expect(res.status).toBe(400);
  });

  it('filters by q on name or email, case-insensitively', async () => {
    expect((await users('q=PERSON01')).pagination.total_records).toBe(10);
    expect((await users('q=renamed seven')).users.map((u: any) => u.email)).toEqual(['person007@list.test']);
  });

  it('filters by account, type and tag, combined with AND', async () => {
    expect((await users('account=acct-0')).pagination.total_records).toBe(63);
    expect((await users('type=Owner')).pagination.total_records).toBe(50);
    expect((await users('tag=champion')).pagination.total_records).toBe(5);
    expect((await users('account=acct-0&type=Owner&tag=champion')).users.map((u: any) => u.email).sort()).toEqual([
      'person000@list.test',
      'person100@list.test',
      'person200@list.test',
    ]);
  });

  it('filters by updated_after, in ISO-8601 or Unix seconds', async () => {
    const res = await users(`updated_after=${new Date(importedAt).toISOString()}`);
    expect(res.users.map((u: any) => u.email)).toEqual(expect.arrayContaining(['person007@list.test']));
    expect(res.pagination.total_records).toBeLessThan(10);
    expect((await users(`updated_after=${Math.floor(importedAt / 1000) - 3600}`)).pagination.total_records).toBe(250);
    const bad = await fetch(`${c.url}/api/v2/admin/users?updated_after=last-week`, {
      headers: { authorization: `Bearer ${c.adminKey}` },
    });
    expect(bad.status).toBe(400);
  });

  it('sorts by name and email, both ways, with stable pages', async () => {
    const byName = await users('sort=name&per_page=3');
    expect(byName.users.map((u: any) => u.name)).toEqual(['Person 000', 'Person 001', 'Person 002']);
    const byEmailDesc = await users('sort=-email&per_page=2&page=2');
    expect(byEmailDesc.users.map((u: any) => u.email)).toEqual(['person247@list.test', 'person246@list.test']);
    expect(
      (
        await fetch(`${c.url}/api/v2/admin/users?sort=shoe_size`, {
          headers: { authorization: `Bearer ${c.adminKey}` },
        })
      ).status,
    ).toBe(400);
  });
});

describe('GET /external_accounts', () => {
  it('lists accounts with users_count, feedback_count, MRR and LTV in cents, sortable by MRR', async () => {
    const res = await c.admin('/external_accounts?sort=-mrr_cents');
    expect(
      res.external_accounts.map((a: any) => [a.external_id, a.mrr_cents, a.ltv_cents, a.users_count, a.feedback_count]),
    ).toEqual([
      ['acct-3', 30_000, 1000, 62, 0],
      ['acct-2', 20_000, 2000, 62, 1],
      ['acct-1', 10_000, 3000, 63, 2],
      ['acct-0', 0, 4000, 63, 0],
    ]);
    expect(res.pagination.total_records).toBe(4);
    expect((await c.admin('/external_accounts?sort=mrr_cents&per_page=1')).external_accounts[0].external_id).toBe(
      'acct-0',
    );
    const first = await c.admin('/external_accounts?sort=-mrr_cents&per_page=3');
    const rest = await c.admin(`/external_accounts?sort=-mrr_cents&per_page=3&after=${first.pagination.next}`);
    expect(rest.external_accounts.map((a: any) => a.external_id)).toEqual(['acct-0']);
    expect(rest.pagination.next).toBeNull();
  });
});

describe('GET /feedback', () => {
  it('pages newest first, by number or by cursor', async () => {
    const first = await c.admin('/feedback?per_page=2');
    expect(first.feedback.map((f: any) => f.title)).toEqual(['Idea of l-2', 'Idea of l-5']);
    const rest = await c.admin(`/feedback?per_page=2&after=${first.pagination.next}`);
    expect(rest.feedback.map((f: any) => f.title)).toEqual(['Idea of l-1']);
    expect(rest.pagination).toMatchObject({ page: null, total_records: 3, next: null });
  });
});
