/**
 * Conformance cases for segments (docs/API.md#segments), part of the store conformance suite
 * (conformance.ts calls them, so memory, lowdb and PostgreSQL each run them): for random segments
 * (fast-check), a filtered list equals the unfiltered list filtered in memory by core/filters.ts's
 * predicate, page by page through cursors; and the aggregates (totals, idea stats, NPS weeks)
 * equal those the memory implementation computes from the unfiltered feedback.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  emptySegment,
  matchesAccount,
  matchesFeedback,
  matchesPerson,
  type Segment,
} from '../../server/core/filters.ts';
import { accountKeysOf, type Account, type ExternalUser, type Feedback, type User } from '../../server/core/records.ts';
import type { Cursor, Page, Store } from '../../server/core/store.ts';
import * as memory from '../../server/engines/embedded/segment-query.ts';

const S = 'site-a';
const T = 'site-b';

const profile = (f: Record<string, unknown>) => ({ f, v: {} });
const user = (n: number): User => ({ site: S, id: `u${n}`, email: `u${n}@x.test`, created_at: n, updated_at: n });
const eu = (n: number, userN: number, f: Record<string, unknown>): ExternalUser => ({
  site: S,
  external_id: `e${n}`,
  user_id: `u${userN}`,
  profile: profile({ email: `u${userN}@x.test`, ...f }),
  created_at: n,
  updated_at: n,
});
const account = (key: string, f: Record<string, unknown>): Account => ({
  site: S,
  key,
  external_id: key,
  profile: profile(f),
  created_at: 1,
  updated_at: 1,
});

const ACCOUNTS = [
  account('a1', { plan: 'Team', mrr_cents: 1000, ltv_cents: 5000, cf_region: 'EU', cf_seats: 5 }),
  account('a2', { plan: 'Ent', mrr_cents: 10000, ltv_cents: 90000, cf_region: 'US', cf_seats: 10 }),
  account('a3', { plan: 'Team', cf_region: 'EU', cf_beta: true }),
  account('a4', { plan: 'Ent', mrr_cents: 5000, ltv_cents: 1000, cf_region: ['EU'] }),
];
const EXTERNALS = [
  eu(1, 1, { type: 'Owner', tags: ['a', 'b'], app_version: '1', location: { country: 'DE' }, account: 'a1', cf_n: 1 }),
  eu(2, 2, { type: 'Member', tags: ['b'], app_version: '2', location: { country: 'US' }, account: 'a2' }),
  eu(3, 2, { type: 'Owner', app_version: '1', account: 'a1', cf_n: 'true' }),
  eu(4, 3, { type: 'Member', tags: 'a', location: { country: 'DE' }, account: 'a3', cf_n: true }),
  eu(5, 4, { type: ['Owner'], app_version: '2', account: 'a4' }),
  eu(6, 5, { location: { country: 'US' }, account: 'gone', cf_n: 2 }),
  eu(7, 6, { type: 'Member', tags: ['a'] }),
];
const KINDS = ['idea', 'support', 'comment', 'nps'] as const;

function feedbackSet(): Feedback[] {
  const out: Feedback[] = [];
  for (let i = 0; i < 36; i++) {
    const e = i % 9 === 8 ? undefined : EXTERNALS[i % EXTERNALS.length];
    const kind = KINDS[i % 4];
    const key = e ? accountKeysOf(e)[0] : undefined;
    out.push({
      site: S,
      id: `f${i}`,
      message_id: `m${i}`,
      kind,
      ...(kind === 'idea' || kind === 'support' ? { idea_id: `i${i % 3}` } : {}),
      ...(kind === 'nps' ? { score: (i * 7) % 11 } : {}),
      ...(i % 5 === 0 ? { source: 'support' } : i % 5 === 1 ? { source: 'api' } : {}),
      user_id: e ? e.user_id : null,
      external_user_id: e ? e.external_id : null,
      account_key: key ?? null,
      mrr_cents_at: key ? (i * 1300) % 12000 : null,
      // Plans recorded then on some (one of them none), not on the older ones.
      ...(key && i % 3 === 0 ? { plan_at: i % 2 ? 'Team' : 'Ent' } : key && i % 3 === 1 ? { plan_at: null } : {}),
      // Spread over several weeks, back-dated out of order like admin history.
      created_at: Date.UTC(2026, 0, 1) + ((i * 5) % 31) * 86_400_000 + i,
    });
  }
  return out;
}

async function seed(s: Store) {
  for (let n = 1; n <= 6; n++) await s.putUser(user(n));
  for (const a of ACCOUNTS) await s.putAccount(a);
  for (const e of EXTERNALS) await s.putExternalUser(e);
  for (const f of feedbackSet())
    await s.putFeedback(
      f,
      f.kind === 'idea' ? { site: S, id: f.idea_id!, title: `Idea ${f.idea_id}`, created_at: 1 } : null,
    );
  // Another site's records never show.
  await s.putAccount({ ...ACCOUNTS[0], site: T });
  await s.putFeedback({ ...feedbackSet()[0], site: T }, null);
}

async function walk<T>(list: (after?: Cursor) => Promise<Page<T>>): Promise<{ items: T[]; total: number }> {
  const items: T[] = [];
  let page = await list();
  const total = page.total;
  for (;;) {
    items.push(...page.items);
    if (!page.next) return { items, total };
    page = await list(page.next);
  }
}

const pick = <T>(values: readonly T[]) => fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 2 });
/** Mostly absent: a segment of a few filters, so that most hold something. */
const opt = <T>(a: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 7 }, { arbitrary: a, weight: 1 });
const range = (ends: number[]) =>
  opt(fc.record({ gte: fc.constantFrom(...ends), lte: fc.constantFrom(...ends) }, { requiredKeys: [] }));

const segmentArb: fc.Arbitrary<Segment> = fc
  .record({
    type: opt(pick(['Owner', 'Member', 'x'])),
    tags: opt(pick(['a', 'b'])),
    app_version: opt(pick(['1', '2'])),
    country: opt(pick(['DE', 'US'])),
    cf_n: opt(pick(['1', '2', 'true'])),
    plan: opt(pick(['Team', 'Ent'])),
    cf_region: opt(pick(['EU', 'US'])),
    cf_seats: opt(pick(['5', '10'])),
    cf_beta: opt(pick(['true'])),
    mrr: range([0, 1000, 5000, 9000]),
    ltv: range([1000, 5000, 90000]),
    kind: opt(pick(KINDS)),
    source: opt(pick(['support', 'api'])),
    createdAfter: opt(fc.integer({ min: 0, max: 31 }).map((d) => Date.UTC(2026, 0, 1) + d * 86_400_000)),
    createdBefore: opt(fc.integer({ min: 0, max: 31 }).map((d) => Date.UTC(2026, 0, 1) + d * 86_400_000)),
    score: range([0, 3, 7, 9, 10]),
    as: fc.constantFrom('now' as const, 'then' as const),
  })
  .map((r) => {
    const text = (fields: string[]) =>
      fields.flatMap((field) => {
        const values = (r as Record<string, unknown>)[field] as string[] | undefined;
        return values ? [{ field, values }] : [];
      });
    return {
      user: text(['type', 'tags', 'app_version', 'country', 'cf_n']),
      account: text(['plan', 'cf_region', 'cf_seats', 'cf_beta']),
      ...(r.mrr ? { mrr: r.mrr } : {}),
      ...(r.ltv ? { ltv: r.ltv } : {}),
      ...(r.kind ? { kind: r.kind } : {}),
      ...(r.source ? { source: r.source } : {}),
      ...(r.createdAfter !== undefined ? { createdAfter: r.createdAfter } : {}),
      ...(r.createdBefore !== undefined ? { createdBefore: r.createdBefore } : {}),
      ...(r.score ? { score: r.score } : {}),
      as: r.as,
    };
  });

/** The cases; `store()` is the store under test in the current case. */
export function segmentConformance(store: () => Store): void {
  it('a filtered list equals the unfiltered list filtered in memory (property, every list)', async () => {
    const s = store();
    await seed(s);
    const accounts = new Map(ACCOUNTS.map((a) => [a.key, a]));
    const eus = new Map(EXTERNALS.map((e) => [e.external_id, e]));
    const look = {
      externalUser: (id: string | null) => (id === null ? undefined : eus.get(id)),
      account: (key: string | null) => (key === null ? undefined : accounts.get(key)),
      externalUsers: () => EXTERNALS,
    };
    const allFeedback = (await walk((after) => s.listFeedback(S, { page: 1, perPage: 7, after }))).items;
    expect(allFeedback).toHaveLength(36);
    const allUsers = (await walk((after) => s.listUsers(S, { page: 1, perPage: 4, after }))).items;
    const allAccounts = (await walk((after) => s.listAccounts(S, { page: 1, perPage: 3, after }))).items;
    const inPos = [...allFeedback].reverse();
    let nonEmpty = 0;

    await fc.assert(
      fc.asyncProperty(segmentArb, async (segment) => {
        const want = allFeedback.filter((f) =>
          matchesFeedback(segment, f, look.externalUser(f.external_user_id), look.account(f.account_key)),
        );
        if (want.length > 0) nonEmpty++;
        const got = await walk((after) => s.listFeedback(S, { page: 1, perPage: 4, after, segment }));
        expect(got.items.map((f) => f.message_id)).toEqual(want.map((f) => f.message_id));
        expect(got.total).toBe(want.length);

        const u2 = await walk((after) => s.listUserFeedback(S, { page: 1, perPage: 3, after, userId: 'u2', segment }));
        expect(u2.items.map((f) => f.message_id).sort()).toEqual(
          want
            .filter((f) => f.user_id === 'u2')
            .map((f) => f.message_id)
            .sort(),
        );

        const people = { ...segment, kind: undefined, source: undefined, score: undefined, as: 'now' as const };
        delete people.createdAfter;
        delete people.createdBefore;
        const wantUsers = allUsers.filter((u) =>
          matchesPerson(
            people,
            EXTERNALS.filter((e) => e.user_id === u.id),
            (e) => look.account(accountKeysOf(e)[0] ?? null),
          ),
        );
        const gotUsers = await walk((after) => s.listUsers(S, { page: 1, perPage: 2, after, segment: people }));
        expect(gotUsers.items.map((u) => u.id)).toEqual(wantUsers.map((u) => u.id));
        expect(gotUsers.total).toBe(wantUsers.length);

        const gotAccounts = await walk((after) =>
          s.listAccounts(S, { page: 1, perPage: 2, after, sort: '-mrr_cents', segment: people }),
        );
        expect(gotAccounts.items.map((a) => a.key).sort()).toEqual(
          allAccounts
            .filter((a) => matchesAccount(people, a))
            .map((a) => a.key)
            .sort(),
        );

        expect(await s.segmentTotals(S, segment)).toEqual(memory.segmentTotals(inPos, segment, look));
        expect(await s.segmentIdeaStats(S, segment)).toEqual(memory.segmentIdeaStats(inPos, segment, look));
        expect(await s.npsWeeks(S, segment)).toEqual(memory.npsWeeks(inPos, segment, look));
      }),
      { numRuns: 80, seed: 1717 },
    );
    // The property is not vacuous: most segments hold something.
    expect(nonEmpty).toBeGreaterThan(20);
  }, 90_000); // ~80 segments × 9 listings; PostgreSQL on a loaded machine takes ~10-20 s

  it('answers known segments with known feedback, and the aggregates of the whole site', async () => {
    const s = store();
    await seed(s);
    const ids = async (segment: Segment) =>
      (await walk((after) => s.listFeedback(S, { page: 1, perPage: 50, after, segment }))).items
        .map((f) => f.message_id)
        .sort();
    // Tags match element-wise; a tag given as a bare string is not a list and never matches.
    expect(await ids({ ...emptySegment(), user: [{ field: 'tags', values: ['a'] }], kind: ['idea'] })).toEqual(
      ['m0', 'm20', 'm28'].sort(),
    );
    // Custom field values compare as their text: the string "true" and the boolean true alike.
    expect(await ids({ ...emptySegment(), user: [{ field: 'cf_n', values: ['true'] }], kind: ['nps'] })).toEqual(
      ['m3', 'm23', 'm31'].sort(),
    );
    // Feedback whose account is gone passes no account filter.
    expect(await ids({ ...emptySegment(), mrr: { gte: 0 }, user: [{ field: 'cf_n', values: ['2'] }] })).toEqual([]);
    expect(
      await ids({ ...emptySegment(), mrr: { gte: 0 }, as: 'then', user: [{ field: 'cf_n', values: ['2'] }] }),
    ).toEqual(['m5', 'm12', 'm19', 'm33'].sort());
    const totals = await s.segmentTotals(S, emptySegment());
    expect(totals).toMatchObject({ feedback_count: 36, accounts_count: 5 });
    const weeks = await s.npsWeeks(S, emptySegment());
    expect(weeks.reduce((n, w) => n + w.promoters + w.passives + w.detractors, 0)).toBe(9);
    expect(new Date(weeks[0].week).getUTCDay()).toBe(1);
  });

  it('keeps saved segments per site, replaced and deleted by name', async () => {
    const s = store();
    await s.putSite({
      key: S,
      name: S,
      admin_key_hash: 'h',
      identity_secrets: [],
      origins: [],
      verification: 'off',
      created_at: 1,
    });
    await s.putSite({
      key: T,
      name: T,
      admin_key_hash: 'h2',
      identity_secrets: [],
      origins: [],
      verification: 'off',
      created_at: 1,
    });
    expect(await s.segments(S)).toEqual({});
    await s.putSegment(S, 'eu', { 'account.cf_region': ['EU'] });
    await s.putSegment(S, 'nps', { kind: ['nps'], score_lte: ['6'] });
    await s.putSegment(S, 'eu', { 'account.cf_region': ['EU', 'UK'] });
    expect(await s.segments(S)).toEqual({
      eu: { 'account.cf_region': ['EU', 'UK'] },
      nps: { kind: ['nps'], score_lte: ['6'] },
    });
    expect(await s.segments(T)).toEqual({});
    await s.putSegment(S, 'eu', null);
    expect(await s.segments(S)).toEqual({ nps: { kind: ['nps'], score_lte: ['6'] } });
    expect((await s.getSite(S))?.name).toBe(S);
  });
}
