/**
 * The memory store shares one walk of a segment's feedback between the page and the segment's
 * totals asked together (engines/embedded/segment-query.ts, docs/API.md#segments). Sharing must
 * never outlive the request: a write after it is seen by the next question.
 */
import { describe, expect, it } from 'vitest';
import { parseSegment } from '../../server/core/filters.ts';
import type { Account, Feedback } from '../../server/core/records.ts';
import type { Store } from '../../server/core/store.ts';
import { MemoryStore } from '../../server/engines/embedded/memory-store.ts';
import { PostgresStore } from '../../server/engines/postgres/store.ts';
import { createSchema, DATABASE_URL } from './pg-schema.ts';

const site = 's';
const account: Account = {
  site,
  key: 'acme',
  external_id: 'acme',
  profile: { f: { plan: 'Enterprise' }, v: {} },
  created_at: 0,
  updated_at: 0,
};
const feedback = (i: number): Feedback => ({
  site,
  id: `f${i}`,
  message_id: `m${i}`,
  kind: 'comment',
  body: 'x',
  user_id: null,
  external_user_id: null,
  account_key: 'acme',
  mrr_cents_at: null,
  created_at: i,
});

async function sharedButNeverStale(store: Store) {
  await store.putAccount(account);
  await store.putFeedback(feedback(1), null);
  const segment = parseSegment({ 'account.plan': 'Enterprise' }, ['account', 'feedback'], new Set());
  const [page, totals] = await Promise.all([
    store.listFeedback(site, { page: 1, perPage: 20, segment }),
    store.segmentTotals(site, segment),
  ]);
  expect(page.total).toBe(1);
  expect(totals.feedback_count).toBe(1);

  // The same Segment object, asked again after a write: nothing stale.
  await store.putFeedback(feedback(2), null);
  const [again, totalsAgain] = await Promise.all([
    store.listFeedback(site, { page: 1, perPage: 20, segment }),
    store.segmentTotals(site, segment),
  ]);
  expect(again.items.map((f) => f.message_id)).toEqual(['m2', 'm1']);
  expect(totalsAgain.feedback_count).toBe(2);
  // The page's reversal does not reorder what the totals read.
  expect((await store.listFeedback(site, { page: 1, perPage: 20, segment })).items[0].message_id).toBe('m2');
}

describe('a segment walk shared by the page and its totals', () => {
  it('answers both from one walk, and a later question sees a write made after it (memory)', async () => {
    await sharedButNeverStale(new MemoryStore());
  });
  it.skipIf(!DATABASE_URL)('the same on PostgreSQL, where one statement answers both', async () => {
    const schema = await createSchema();
    const store = await PostgresStore.open(schema.url, { poolSize: 2 });
    try {
      await store.putSite({ key: site, admin_key_hash: 'h' } as never);
      await sharedButNeverStale(store);
    } finally {
      await store.close();
      await schema.drop();
    }
  });
});
