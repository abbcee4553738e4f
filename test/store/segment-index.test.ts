/**
 * The memory store answers segments through its feedback index (engines/embedded/segment-query.ts,
 * docs/PERFORMANCE.md#segments): people and accounts are tested once, through buckets the store
 * keeps up to date on every write. Whatever the writes — external users changed or deleted after
 * their feedback, feedback re-stored under the same message id, feedback detached from a person
 * — a filtered page, its totals, the idea stats and NPS equal the same questions asked of the
 * store's feedback filtered in memory by core/filters.ts's predicate (no index).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptySegment, type Segment } from '../../server/core/filters.ts';
import type { Account, ExternalUser, Feedback } from '../../server/core/records.ts';
import { MemoryStore } from '../../server/engines/embedded/memory-store.ts';
import * as segments from '../../server/engines/embedded/segment-query.ts';

const S = 's';
const PERSONAS = ['dev', 'pm'];
const PLANS = ['Team', 'Ent'];

type Op =
  | { op: 'eu'; n: number; persona: string; account: number }
  | { op: 'delete-eu'; n: number }
  | { op: 'account'; n: number; plan: string; mrr: number }
  | { op: 'feedback'; n: number; eu: number; account: number; kind: 'idea' | 'nps' | 'comment' }
  | { op: 'detach'; user: number; account: number };

const small = fc.integer({ min: 0, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('eu' as const),
      n: small,
      persona: fc.constantFrom(...PERSONAS),
      account: small,
    }),
  },
  fc.record({ op: fc.constant('delete-eu' as const), n: small }),
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('account' as const),
      n: small,
      plan: fc.constantFrom(...PLANS),
      mrr: fc.constantFrom(100, 5000),
    }),
  },
  // Feedback ids 0..7: a repeated id re-stores the record (as a replay does).
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('feedback' as const),
      n: fc.integer({ min: 0, max: 7 }),
      eu: small,
      account: small,
      kind: fc.constantFrom('idea' as const, 'nps' as const, 'comment' as const),
    }),
  },
  fc.record({ op: fc.constant('detach' as const), user: small, account: small }),
);

const SEGMENTS: Segment[] = [
  { ...emptySegment(), user: [{ field: 'cf_persona', values: ['dev'] }] },
  { ...emptySegment(), account: [{ field: 'plan', values: ['Ent'] }] },
  { ...emptySegment(), user: [{ field: 'cf_persona', values: ['pm'] }], mrr: { gte: 1000 } },
  { ...emptySegment(), account: [{ field: 'plan', values: ['Team'] }], kind: ['nps'], as: 'then' },
];

async function apply(store: MemoryStore, o: Op) {
  if (o.op === 'eu') {
    const eu: ExternalUser = {
      site: S,
      external_id: `e${o.n}`,
      user_id: `u${o.n}`,
      profile: { f: { cf_persona: o.persona, account: `a${o.account}` }, v: {} },
      created_at: 0,
      updated_at: 0,
    };
    await store.putExternalUser(eu);
  } else if (o.op === 'delete-eu') await store.deleteExternalUser(S, `e${o.n}`);
  else if (o.op === 'account') {
    const a: Account = {
      site: S,
      key: `a${o.n}`,
      external_id: `a${o.n}`,
      profile: { f: { plan: o.plan, mrr_cents: o.mrr }, v: {} },
      created_at: 0,
      updated_at: 0,
    };
    await store.putAccount(a);
  } else if (o.op === 'feedback') {
    const f: Feedback = {
      site: S,
      id: `f${o.n}`,
      message_id: `m${o.n}`,
      kind: o.kind,
      ...(o.kind === 'idea' ? { idea_id: 'i1' } : {}),
      ...(o.kind === 'nps' ? { score: o.n } : {}),
      body: 'x',
      user_id: `u${o.eu}`,
      external_user_id: `e${o.eu}`,
      account_key: `a${o.account}`,
      mrr_cents_at: o.account * 1000,
      plan_at: PLANS[o.account % 2],
      created_at: 1_700_000_000_000 + o.n * 86_400_000,
    };
    await store.putFeedback(f, null);
  } else await store.detachFeedback(S, `u${o.user}`, [`a${o.account}`]);
}

/** The same questions without the index: the store's feedback filtered by the predicate. */
async function reference(store: MemoryStore, s: Segment) {
  const all = (await store.listFeedback(S, { page: 1, perPage: 1000 })).items.slice().reverse();
  const eus = new Map<string, ExternalUser>();
  for (const e of (await store.listExternalUsers(S, { page: 1, perPage: 1000 })).items) eus.set(e.external_id, e);
  const accounts = new Map<string, Account>();
  for (const a of (await store.listAccounts(S, { page: 1, perPage: 1000 })).items) accounts.set(a.key, a);
  const look: segments.Lookups = {
    externalUser: (id) => (id === null ? undefined : eus.get(id)),
    account: (key) => (key === null ? undefined : accounts.get(key)),
    externalUsers: () => eus.values(),
  };
  return {
    page: segments
      .matchingFeedback(all, s, look)
      .map((f) => f.message_id)
      .reverse(),
    totals: segments.segmentTotals(all, s, look),
    ideas: segments.segmentIdeaStats(all, s, look),
    nps: segments.npsWeeks(all, s, look),
  };
}

describe('the memory store answers segments through its feedback index', () => {
  it('equals the predicate over its feedback after any writes (property)', async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40 }), async (ops) => {
        const store = new MemoryStore();
        for (const o of ops) await apply(store, o);
        for (const s of SEGMENTS) {
          const want = await reference(store, s);
          const page = await store.listFeedback(S, { page: 1, perPage: 1000, segment: s });
          expect(page.items.map((f) => f.message_id)).toEqual(want.page);
          expect(page.total).toBe(want.page.length);
          expect(await store.segmentTotals(S, s)).toEqual(want.totals);
          expect(await store.segmentIdeaStats(S, s)).toEqual(want.ideas);
          expect(await store.npsWeeks(S, s)).toEqual(want.nps);
          if (want.page.length > 0) nonEmpty++;
        }
      }),
      { numRuns: 300, seed: 17 },
    );
    // Not vacuous: a fair share of the answers hold feedback.
    expect(nonEmpty).toBeGreaterThan(250);
  });
});
