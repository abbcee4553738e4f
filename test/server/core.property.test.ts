/**
 * docs/API.md#identify-semantics: "Retries and reordering never regress data". Stated as a property: applying a
 * set of identity batches in any order, with any of them delivered more than once, ends in the
 * same store as applying each once in order — in every verification mode (docs/API.md#trust),
 * and across a switch between modes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identitySchema } from '../../shared/identity.ts';
import { recordFeedback } from '../../server/core/feedback.ts';
import { applyIdentity, type IdentifyItem } from '../../server/core/identify.ts';
import { RANK } from '../../server/core/merge.ts';
import { accountKeysOf, type ExternalUser, type Site } from '../../server/core/records.ts';
import { ERA, rankFor } from '../../server/trust/ranks.ts';
import { MemoryStore, splitKey } from '../../server/engines/embedded/memory-store.ts';

const SITE = 's';
const ids = ['u1', 'u2', 'u3', 'u4'];
const emails = ['ann@a.test', 'bob@a.test', 'cat@b.test'];

/** One identity update with a unique message id and version. */
const update = fc.record({
  id: fc.constantFrom(...ids),
  email: fc.constantFrom(...emails),
  name: fc.option(fc.constantFrom('Ann', 'Bob', 'Cat', 'Dee'), { nil: undefined }),
  app_version: fc.option(fc.constantFrom('1.0', '2.0'), { nil: undefined }),
  cf_plan_seats: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
  account: fc.option(
    fc.record({
      id: fc.option(fc.constantFrom('acme', 'globex'), { nil: undefined }),
      mrr_cents: fc.integer({ min: 0, max: 100_000 }),
    }),
    { nil: undefined },
  ),
  // Several accounts per person: each link merges on its own, so links from any messages converge.
  accounts: fc.option(
    fc.array(
      fc.record({ id: fc.constantFrom('acme', 'globex', 'initech'), mrr_cents: fc.integer({ min: 0, max: 100_000 }) }),
      { maxLength: 2 },
    ),
    { nil: undefined },
  ),
  at: fc.integer({ min: 1, max: 50 }),
  rank: fc.constantFrom(RANK.unproven, RANK.user_hash, RANK.token, RANK.admin),
  era: fc.integer({ min: 0, max: 2 }),
  claim: fc.boolean(),
});
type Update = typeof update extends fc.Arbitrary<infer U> ? U : never;

const off: Pick<Site, 'verification'> = { verification: 'off' };
const optional: Pick<Site, 'verification'> = { verification: 'optional' };

/**
 * How each mode accepts an update (server/trust/ranks.ts, server/trust/items.ts): in `off` every
 * source writes at one rank and every email is believed; in `optional` and `required` sources
 * keep their rank and an email without a token or the admin API behind it is a claim. `switched`
 * is any source in any of three eras with any claim, as updates accepted on both sides of mode
 * switches are.
 */
const MODES: Record<string, (u: Update) => { rank: number; claim: boolean }> = {
  off: (u) => ({ rank: rankFor(off, u.rank), claim: false }),
  optional: (u) => ({ rank: rankFor(optional, u.rank), claim: u.rank < RANK.token }),
  switched: (u) => ({ rank: u.era * ERA + u.rank, claim: u.claim }),
};

/** A snapshot of everything observable, without wall-clock bookkeeping. */
async function snapshot(store: MemoryStore) {
  const strip = (o: object) =>
    JSON.parse(
      JSON.stringify(o, (k, v) =>
        ['created_at', 'updated_at', 'received_at'].includes(k) && typeof v === 'number' && v > 1e9 ? undefined : v,
      ),
    );
  const s = store as unknown as Record<string, Map<string, unknown>>;
  const out: Record<string, unknown> = {};
  // Pending records are kept packed (packed-records.ts): they are compared as the store reads them.
  const read: Record<string, (site: string, id: string) => Promise<unknown>> = {
    pending: (site, id) => store.getPending(site, id),
    pendingAccounts: (site, key) => store.getPendingAccount(site, key),
  };
  for (const name of ['users', 'externalUsers', 'accounts', 'pending', 'pendingAccounts']) {
    const entries = await Promise.all(
      [...s[name].entries()].map(async ([k, v]) => [k, read[name] ? await read[name](...splitKey(k)) : v] as const),
    );
    out[name] = entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, strip(v as object)]);
  }
  for (const [, p] of out.pending as [string, { account_keys: string[] }][]) p.account_keys.sort();
  // Which accounts each person has, the one they act in first, and how many users each account counts.
  out.links = [...s.externalUsers.values()].map((eu) => accountKeysOf(eu as ExternalUser)).sort();
  out.counts = await Promise.all(
    ['acme', 'globex', 'initech', '~u1'].map(async (key) => (await store.accountCounts(SITE, key)).users_count),
  );
  return out;
}

async function seeded() {
  const store = new MemoryStore();
  // Ann is already visible: identities with her email attach instead of waiting.
  await recordFeedback(store, SITE, {
    id: 'f0',
    message_id: 'f0',
    kind: 'comment',
    body: 'hi',
    created_at: 1e12,
    version: [0, 0, 'f0'],
    identity: identitySchema.parse({ id: 'u0', email: 'ann@a.test' }),
  });
  return store;
}

describe.each(Object.keys(MODES))('the identify core, %s mode', (mode) => {
  it('ends in the same state whatever the order and duplication of batches', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(update, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 }),
        fc.infiniteStream(fc.nat()),
        async (batches, rand) => {
          let n = 0;
          const items: IdentifyItem[][] = batches.map((batch) =>
            batch.map((u) => {
              const { at, rank: _r, era: _e, claim: _c, ...raw } = u;
              const { rank, claim } = MODES[mode](u);
              const message_id = `m${n++}`;
              return {
                message_id,
                version: [rank, at, message_id],
                identity: identitySchema.parse(raw),
                ...(claim ? { email_claim: true as const } : {}),
              };
            }),
          );

          const inOrder = await seeded();
          let now = 2e12;
          for (const batch of items) for (const item of batch) await applyIdentity(inOrder, SITE, item, now++);

          // Shuffle, and deliver some batches twice (a retry after a lost response).
          const r = rand[Symbol.iterator]();
          const deliveries = items.flatMap((b) => (r.next().value % 3 === 0 ? [b, b] : [b]));
          for (let i = deliveries.length - 1; i > 0; i--) {
            const j = r.next().value % (i + 1);
            [deliveries[i], deliveries[j]] = [deliveries[j], deliveries[i]];
          }
          const shuffled = await seeded();
          for (const batch of deliveries) for (const item of batch) await applyIdentity(shuffled, SITE, item, now++);

          expect(await snapshot(shuffled)).toEqual(await snapshot(inOrder));
        },
      ),
      { numRuns: 300 },
    );
  });
});
