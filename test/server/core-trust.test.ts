/**
 * The identify core under the trust rules (docs/API.md#trust), on a memory store: ranks decided by
 * the site's mode, across mode switches, and identities whose email is only a claim. No HTTP, no
 * disk (test/server/source-ranks.test.ts and email-claims.test.ts drive the same over HTTP).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { identitySchema, type Identity } from '../../shared/identity.ts';
import { applyIdentity, type IdentifyItem } from '../../server/core/identify.ts';
import { recordFeedback, type FeedbackItem } from '../../server/core/feedback.ts';
import { RANK, type Version } from '../../server/core/merge.ts';
import { MemoryStore } from '../../server/engines/embedded/memory-store.ts';
import { eraAfter, rankFor } from '../../server/trust/ranks.ts';

const SITE = 's1';
let store: MemoryStore;
let clock = 1_000_000;

function identity(raw: Record<string, unknown>): Identity {
  return identitySchema.parse(raw);
}
function item(
  raw: Record<string, unknown>,
  message_id: string,
  at = ++clock,
  rank: number = RANK.unproven,
): IdentifyItem {
  return { message_id, version: [rank, at, message_id], identity: identity(raw) };
}
const apply = (i: IdentifyItem) => applyIdentity(store, SITE, i, ++clock);
function feedback(raw: Partial<FeedbackItem> & { identity?: Identity }, message_id = 'fb-' + clock): FeedbackItem {
  const at = ++clock;
  return {
    id: 'id-' + message_id,
    message_id,
    kind: 'idea',
    title: 'Dark mode',
    created_at: at,
    version: [RANK.unproven, at, message_id] as Version,
    ...raw,
  };
}

beforeEach(() => {
  store = new MemoryStore();
});

describe("ranks decided by the site's mode (docs/API.md#trust)", () => {
  const offSite = { verification: 'off' as const };
  const optionalSite = { verification: 'optional' as const };
  const acme = (mrr: number, name: string) => ({
    id: 'u1',
    email: 'ann@acme.test',
    name,
    account: { id: 'acme', mrr_cents: mrr },
  });
  const state = async () => ({
    name: (await store.getExternalUser(SITE, 'u1'))!.profile.f.name,
    mrr: (await store.getAccount(SITE, 'acme'))!.profile.f.mrr_cents,
  });
  beforeEach(async () => {
    await recordFeedback(store, SITE, feedback({ identity: identity({ id: 'u1', email: 'ann@acme.test' }) }));
  });

  it('off: a later page update wins over an earlier admin one, and an earlier one does not', async () => {
    await apply(item(acme(999, 'Old'), 'admin', 2_000, rankFor(offSite, RANK.admin)));
    await apply(item(acme(1, 'Older'), 'stale', 1_000, rankFor(offSite, RANK.unproven)));
    expect(await state()).toEqual({ name: 'Old', mrr: 999 });
    await apply(item(acme(9950, 'New'), 'page', 3_000, rankFor(offSite, RANK.unproven)));
    expect(await state()).toEqual({ name: 'New', mrr: 9950 });
  });

  it('optional: an earlier admin update wins over a later unproven one', async () => {
    await apply(item(acme(999, 'Old'), 'admin', 2_000, rankFor(optionalSite, RANK.admin)));
    await apply(item(acme(9950, 'New'), 'page', 3_000, rankFor(optionalSite, RANK.unproven)));
    expect(await state()).toEqual({ name: 'Old', mrr: 999 });
  });

  it('off, then optional: what off mode stored yields to a proven source, and is then protected', async () => {
    await apply(item(acme(999, 'Old'), 'admin', 2_000, rankFor(offSite, RANK.admin)));
    const switched = { verification: 'optional' as const, rank_era: eraAfter(offSite, 'optional') };
    await apply(item(acme(9950, 'New'), 'hash', 1_000, rankFor(switched, RANK.user_hash)));
    await apply(item(acme(1, 'Spoof'), 'page', 3_000, rankFor(switched, RANK.unproven)));
    expect(await state()).toEqual({ name: 'New', mrr: 9950 });
  });

  it('optional, then off: the newest update wins again over what the admin API set', async () => {
    await apply(item(acme(999, 'Old'), 'admin', 2_000, rankFor(optionalSite, RANK.admin)));
    const switched = { verification: 'off' as const, rank_era: eraAfter(optionalSite, 'off') };
    await apply(item(acme(9950, 'New'), 'page', 3_000, rankFor(switched, RANK.unproven)));
    expect(await state()).toEqual({ name: 'New', mrr: 9950 });
  });
});

describe('an identity whose email is only a claim (docs/API.md#trust)', () => {
  const claim = (i: IdentifyItem): IdentifyItem => ({ ...i, email_claim: true });

  it('waits pending instead of attaching to the visible user with that email', async () => {
    await recordFeedback(store, SITE, feedback({ identity: identity({ id: 'exec-1', email: 'exec@big.test' }) }));
    const impostor = item(
      { id: 'user-9', email: 'exec@big.test', name: 'Someone Else' },
      'm1',
      ++clock,
      RANK.user_hash,
    );
    expect(await apply(claim(impostor))).toBe('pending');
    expect(await store.getExternalUser(SITE, 'user-9')).toBeUndefined();
    const user = (await store.getUserByEmail(SITE, 'exec@big.test'))!;
    expect((await store.externalUsersOf(SITE, user.id)).map((e) => e.external_id)).toEqual(['exec-1']);
    expect((await store.getPending(SITE, 'user-9'))!.profile.f.name).toBe('Someone Else');
  });

  it('is attached, with what it held pending, by an identity of its id whose email is proven', async () => {
    await recordFeedback(store, SITE, feedback({ identity: identity({ id: 'u1', email: 'ann@acme.test' }) }));
    await apply(claim(item({ id: 'crm-7', email: 'ann@acme.test', cf_seats: 3 }, 'm1', ++clock, RANK.user_hash)));
    expect(await apply(item({ id: 'crm-7', email: 'ann@acme.test' }, 'm2', ++clock, RANK.token))).toBe('attached');
    expect((await store.getExternalUser(SITE, 'crm-7'))!.profile.f.cf_seats).toBe(3);
    expect(await store.getPending(SITE, 'crm-7')).toBeUndefined();
  });
});
