/**
 * PostgreSQL finds a segment's people and accounts through terms (migration 016,
 * docs/PERFORMANCE.md#segments) that triggers keep beside external users and accounts. Whatever
 * the writes — profiles changed, records deleted, upserts, TRUNCATE — the terms are exactly those
 * computed from the documents now, and a filtered feedback list equals the unfiltered list
 * filtered in memory by core/filters.ts's predicate.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptySegment, matchesFeedback, type Segment } from '../../server/core/filters.ts';
import type { Account, ExternalUser, Feedback } from '../../server/core/records.ts';
import { PostgresStore } from '../../server/engines/postgres/store.ts';
import { createSchema, DATABASE_URL, type TestSchema } from './pg-schema.ts';

const S = 's';
const n = fc.integer({ min: 0, max: 3 });

type Op =
  | { op: 'eu'; n: number; persona: string | number; tags: string[]; country: string; account: number }
  | { op: 'delete-eu'; n: number }
  | { op: 'account'; n: number; plan: string; region: string }
  | { op: 'delete-account'; n: number }
  | { op: 'feedback'; n: number; eu: number; account: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('eu' as const),
      n,
      // A number is compared by its text (docs/API.md#segments): its term is `cf_persona=5`.
      persona: fc.constantFrom<string | number>('dev', 'pm', 5),
      tags: fc.subarray(['a', 'b']),
      country: fc.constantFrom('DE', 'US'),
      account: n,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete-eu' as const), n }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('account' as const),
      n,
      plan: fc.constantFrom('Team', 'Ent'),
      region: fc.constantFrom('EU', 'US'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete-account' as const), n }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('feedback' as const), n: fc.nat(9), eu: n, account: n }) },
);

const SEGMENTS: Segment[] = [
  { ...emptySegment(), user: [{ field: 'cf_persona', values: ['dev', '5'] }] },
  { ...emptySegment(), user: [{ field: 'tags', values: ['a'] }] },
  {
    ...emptySegment(),
    user: [
      { field: 'country', values: ['US'] },
      { field: 'cf_persona', values: ['pm'] },
    ],
  },
  { ...emptySegment(), account: [{ field: 'plan', values: ['Ent'] }] },
  {
    ...emptySegment(),
    account: [
      { field: 'plan', values: ['Team'] },
      { field: 'cf_region', values: ['EU'] },
    ],
  },
];

async function apply(store: PostgresStore, o: Op) {
  if (o.op === 'eu') {
    const eu: ExternalUser = {
      site: S,
      external_id: `e${o.n}`,
      user_id: `u${o.n}`,
      profile: {
        f: { cf_persona: o.persona, tags: o.tags, location: { country: o.country }, account: `a${o.account}` },
        v: {},
      },
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
      profile: { f: { plan: o.plan, cf_region: o.region }, v: {} },
      created_at: 0,
      updated_at: 0,
    };
    await store.putAccount(a);
  } else if (o.op === 'delete-account') await store.deleteAccount(S, `a${o.n}`);
  else {
    const f: Feedback = {
      site: S,
      id: `f${o.n}`,
      message_id: `m${o.n}`,
      kind: 'comment',
      body: 'x',
      user_id: `u${o.eu}`,
      external_user_id: `e${o.eu}`,
      account_key: `a${o.account}`,
      mrr_cents_at: null,
      created_at: o.n,
    };
    if (!(await store.getFeedbackByMessage(S, f.message_id))) await store.putFeedback(f, null);
  }
}

describe.skipIf(!DATABASE_URL)('segments through the terms of people and accounts (PostgreSQL)', () => {
  let schema: TestSchema;
  let store: PostgresStore;
  let db: pg.Client;
  beforeAll(async () => {
    schema = await createSchema();
    store = await PostgresStore.open(schema.url, { poolSize: 2 });
    db = new pg.Client({ connectionString: schema.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await store?.close();
    await schema?.drop();
  });

  /** Terms kept by the triggers that differ from the terms of the documents now (either way). */
  async function strayTerms() {
    const { rows } = await db.query(
      `(SELECT 'person' AS t, site, term, external_id AS id FROM person_terms
        EXCEPT SELECT 'person', site, unnest(parley_person_terms(doc)), external_id FROM external_users)
      UNION ALL (SELECT 'person', site, unnest(parley_person_terms(doc)), external_id FROM external_users
        EXCEPT SELECT 'person', site, term, external_id FROM person_terms)
      UNION ALL (SELECT 'account', site, term, key FROM account_terms
        EXCEPT SELECT 'account', site, unnest(parley_account_terms(doc)), key FROM accounts)
      UNION ALL (SELECT 'account', site, unnest(parley_account_terms(doc)), key FROM accounts
        EXCEPT SELECT 'account', site, term, key FROM account_terms)`,
    );
    return rows;
  }

  it('keeps the terms of the documents now, and filters as the predicate does (property)', async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 3, maxLength: 25 }), async (ops) => {
        await db.query('TRUNCATE external_users, accounts, feedback');
        for (const o of ops) await apply(store, o);
        expect(await strayTerms()).toEqual([]);
        const all = (await store.listFeedback(S, { page: 1, perPage: 100 })).items;
        const eus = new Map(
          (await store.listExternalUsers(S, { page: 1, perPage: 100 })).items.map((e) => [e.external_id, e]),
        );
        const accounts = new Map((await store.listAccounts(S, { page: 1, perPage: 100 })).items.map((a) => [a.key, a]));
        for (const s of SEGMENTS) {
          const want = all
            .filter((f) =>
              matchesFeedback(
                s,
                f,
                eus.get(f.external_user_id ?? ''),
                f.account_key === null ? undefined : accounts.get(f.account_key),
              ),
            )
            .map((f) => f.message_id);
          const got = await store.listFeedback(S, { page: 1, perPage: 100, segment: s });
          expect(got.items.map((f) => f.message_id)).toEqual(want);
          expect((await store.segmentTotals(S, s)).feedback_count).toBe(want.length);
          if (want.length > 0) nonEmpty++;
        }
      }),
      { numRuns: 25, seed: 16 },
    );
    // Not vacuous: many of the answers hold feedback.
    expect(nonEmpty).toBeGreaterThan(20);
  }, 120_000);
});
