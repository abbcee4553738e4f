/**
 * The identify semantics of docs/API.md#identify-semantics, driven through the pure core on a memory store:
 * no HTTP, no disk.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { identitySchema, type Identity } from '../../shared/identity.ts';
import { applyIdentity, type IdentifyItem } from '../../server/core/identify.ts';
import { recordFeedback, type FeedbackItem } from '../../server/core/feedback.ts';
import { RANK, type Version } from '../../server/core/merge.ts';
import { MemoryStore } from '../../server/engines/embedded/memory-store.ts';
import { ideaStats } from '../../server/core/ideas.ts';
import { importUsers } from '../../server/core/imports.ts';
import { importUserSchema } from '../../shared/imports.ts';
import { accountKeysOf } from '../../server/core/records.ts';
import { ACCOUNTS_PER_IDENTITY_MAX } from '../../shared/limits.ts';

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

describe('an identity never seen before', () => {
  it('waits in the pending store and stays out of user listings', async () => {
    expect(await apply(item({ id: 'u1', email: 'ann@acme.test', name: 'Ann' }, 'm1'))).toBe('pending');
    expect((await store.counts(SITE)).pending_identities).toBe(1);
    expect((await store.listUsers(SITE, { page: 1, perPage: 20 })).total).toBe(0);
    expect(await store.getExternalUser(SITE, 'u1')).toBeUndefined();
  });

  it('uses the normalized email as its id when it has none', async () => {
    await apply(item({ email: 'Ann@Acme.TEST' }, 'm1'));
    expect(await store.getPending(SITE, 'ann@acme.test')).toBeDefined();
  });

  it('does not create its account, but updates an account that already exists at once', async () => {
    await apply(item({ id: 'u1', email: 'ann@acme.test', account: { id: 'acme', monthly_rate: 10 } }, 'm1'));
    expect(await store.getAccount(SITE, 'acme')).toBeUndefined();

    // Bob is visible on the same account, so the account exists.
    await recordFeedback(
      store,
      SITE,
      feedback({ identity: identity({ id: 'u2', email: 'bob@acme.test', account: { id: 'acme', monthly_rate: 10 } }) }),
    );
    await apply(item({ id: 'u1', email: 'ann@acme.test', account: { id: 'acme', monthly_rate: 99.5 } }, 'm2'));
    expect((await store.getAccount(SITE, 'acme'))!.profile.f.mrr_cents).toBe(9950);
    expect(await store.getExternalUser(SITE, 'u1')).toBeUndefined();
  });
});

describe('an identity of someone already visible', () => {
  it('updates the external user at once', async () => {
    await recordFeedback(
      store,
      SITE,
      feedback({ identity: identity({ id: 'u1', email: 'ann@acme.test', name: 'Ann' }) }),
    );
    expect(await apply(item({ id: 'u1', email: 'ann@acme.test', name: 'Ann Smith' }, 'm1'))).toBe('updated');
    expect((await store.getExternalUser(SITE, 'u1'))!.profile.f.name).toBe('Ann Smith');
  });

  it('attaches a new external id to the visible user with the same email', async () => {
    await recordFeedback(store, SITE, feedback({ identity: identity({ id: 'u1', email: 'ann@acme.test' }) }));
    expect(await apply(item({ id: 'crm-7', email: 'ANN@acme.test' }, 'm1'))).toBe('attached');
    const user = await store.getUserByEmail(SITE, 'ann@acme.test');
    expect((await store.externalUsersOf(SITE, user!.id)).map((e) => e.external_id).sort()).toEqual(['crm-7', 'u1']);
    expect((await store.counts(SITE)).users).toBe(1);
  });

  it('keeps an external user attached to its first user when its email changes', async () => {
    await recordFeedback(store, SITE, feedback({ identity: identity({ id: 'u1', email: 'ann@acme.test' }) }));
    const first = (await store.getExternalUser(SITE, 'u1'))!.user_id;
    await apply(item({ id: 'u1', email: 'ann@newmail.test' }, 'm1'));
    const eu = (await store.getExternalUser(SITE, 'u1'))!;
    expect(eu.user_id).toBe(first);
    expect(eu.profile.f.email).toBe('ann@newmail.test');
    expect(await store.getUserByEmail(SITE, 'ann@newmail.test')).toBeUndefined();
  });
});

describe('feedback', () => {
  it('promotes a pending identity when its user leaves feedback, with the account MRR at that moment', async () => {
    await apply(
      item(
        {
          id: 'u1',
          email: 'ann@acme.test',
          name: 'Ann',
          cf_persona: 'dev',
          account: { id: 'acme', name: 'Acme', monthly_rate: 99.5 },
        },
        'm1',
      ),
    );
    const f = await recordFeedback(store, SITE, feedback({ identity: identity({ id: 'u1', email: 'ann@acme.test' }) }));
    expect((await store.counts(SITE)).pending_identities).toBe(0);
    const eu = (await store.getExternalUser(SITE, 'u1'))!;
    expect(eu.profile.f).toMatchObject({ name: 'Ann', cf_persona: 'dev', account: 'acme' });
    expect((await store.getAccount(SITE, 'acme'))!.profile.f).toMatchObject({ name: 'Acme', mrr_cents: 9950 });
    expect(f).toMatchObject({ user_id: eu.user_id, external_user_id: 'u1', account_key: 'acme', mrr_cents_at: 9950 });
    expect((await store.listUsers(SITE, { page: 1, perPage: 20 })).total).toBe(1);
  });

  it('keeps the MRR at the time of the feedback when the account changes later', async () => {
    await recordFeedback(
      store,
      SITE,
      feedback(
        { identity: identity({ id: 'u1', email: 'ann@acme.test', account: { id: 'acme', mrr_cents: 1000 } }) },
        'f1',
      ),
    );
    await apply(item({ id: 'u1', email: 'ann@acme.test', account: { id: 'acme', mrr_cents: 5000 } }, 'm1'));
    expect((await store.getFeedbackByMessage(SITE, 'f1'))!.mrr_cents_at).toBe(1000);
    expect((await store.getAccount(SITE, 'acme'))!.profile.f.mrr_cents).toBe(5000);
  });

  it('returns the same feedback for the same message id instead of a new one', async () => {
    const a = await recordFeedback(
      store,
      SITE,
      feedback({ identity: identity({ id: 'u1', email: 'ann@acme.test' }) }, 'same'),
    );
    const b = await recordFeedback(store, SITE, { ...feedback({}, 'same'), id: 'another-id' });
    expect(b.id).toBe(a.id);
    expect((await store.counts(SITE)).feedback).toBe(1);
  });

  it('gives an account without an id to the one user that carries it', async () => {
    await recordFeedback(
      store,
      SITE,
      feedback({ identity: identity({ id: 'u1', email: 'ann@a.test', account: { name: 'Solo', mrr_cents: 500 } }) }),
    );
    await recordFeedback(
      store,
      SITE,
      feedback({ identity: identity({ id: 'u2', email: 'bob@b.test', account: { name: 'Solo', mrr_cents: 700 } }) }),
    );
    expect((await store.getAccount(SITE, '~u1'))!.profile.f.mrr_cents).toBe(500);
    expect((await store.getAccount(SITE, '~u2'))!.profile.f.mrr_cents).toBe(700);
  });

  it('records anonymous feedback without creating anyone', async () => {
    const f = await recordFeedback(store, SITE, feedback({ kind: 'nps', score: 9, title: undefined }));
    expect(f.user_id).toBeNull();
    expect((await store.counts(SITE)).users).toBe(0);
  });
});

describe('retries and reordering', () => {
  it('applies a duplicate message id once', async () => {
    const first = item({ id: 'u1', email: 'ann@acme.test', name: 'Ann' }, 'dup');
    expect(await apply(first)).toBe('pending');
    expect(await apply(first)).toBe('duplicate');
  });

  it('never lets an older update overwrite a newer field', async () => {
    await recordFeedback(store, SITE, feedback({ identity: identity({ id: 'u1', email: 'ann@acme.test' }) }));
    await apply(item({ id: 'u1', email: 'ann@acme.test', name: 'New', app_version: '2.0' }, 'new', 2_000_000));
    await apply(item({ id: 'u1', email: 'ann@acme.test', name: 'Old', type: 'Owner' }, 'old', 1_500_000));
    expect((await store.getExternalUser(SITE, 'u1'))!.profile.f).toMatchObject({
      name: 'New',
      app_version: '2.0',
      type: 'Owner',
    });
  });

  it('lets a stronger source win over a newer weaker one', async () => {
    await recordFeedback(store, SITE, feedback({ identity: identity({ id: 'u1', email: 'ann@acme.test' }) }));
    await apply(
      item({ id: 'u1', email: 'ann@acme.test', account: { id: 'acme', mrr_cents: 9900 } }, 'admin', 1_000, RANK.admin),
    );
    await apply(
      item(
        { id: 'u1', email: 'ann@acme.test', account: { id: 'acme', mrr_cents: 1 } },
        'page',
        9_000_000,
        RANK.unproven,
      ),
    );
    expect((await store.getAccount(SITE, 'acme'))!.profile.f.mrr_cents).toBe(9900);
  });
});

describe('a person with several accounts (docs/API.md#the-identity-object)', () => {
  const ann = (extra: Record<string, unknown>) => identity({ id: 'u1', email: 'ann@acme.test', ...extra });
  const keysOfAnn = async () => accountKeysOf((await store.getExternalUser(SITE, 'u1'))!);

  it('is linked to every account they name, and each account gets what the identity says of it', async () => {
    await recordFeedback(
      store,
      SITE,
      feedback({
        identity: ann({
          account: { id: 'acme', monthly_rate: 10 },
          accounts: [
            { id: 'globex', monthly_rate: 50, plan: 'Team' },
            { id: 'initech', cf_region: 'EU' },
          ],
        }),
      }),
    );
    expect(await keysOfAnn()).toEqual(['acme', 'globex', 'initech']);
    expect((await store.getAccount(SITE, 'globex'))!.profile.f).toMatchObject({ mrr_cents: 5000, plan: 'Team' });
    expect((await store.getAccount(SITE, 'initech'))!.profile.f).toMatchObject({ cf_region: 'EU' });
    for (const key of ['acme', 'globex', 'initech']) expect((await store.accountCounts(SITE, key)).users_count).toBe(1);
  });

  it('acts in `account`, or else in the first of `accounts`; feedback records that account and its MRR', async () => {
    await apply(
      item({ id: 'u1', email: 'ann@acme.test', accounts: [{ id: 'globex', monthly_rate: 50 }, { id: 'acme' }] }, 'm1'),
    );
    const first = await recordFeedback(store, SITE, feedback({ identity: ann({}) }));
    expect([first.account_key, first.mrr_cents_at]).toEqual(['globex', 5000]);
    // A newer identity acting elsewhere (a second Segment group) switches, keeping the links.
    await apply(item({ id: 'u1', email: 'ann@acme.test', account: { id: 'acme', monthly_rate: 10 } }, 'm2'));
    const second = await recordFeedback(store, SITE, feedback({ identity: ann({}) }));
    expect([second.account_key, second.mrr_cents_at]).toEqual(['acme', 1000]);
    expect(await keysOfAnn()).toEqual(['acme', 'globex']);
  });

  it('keeps every link whatever order the identities that made them arrive in', async () => {
    await recordFeedback(store, SITE, feedback({ identity: ann({}) }));
    await apply(item({ id: 'u1', email: 'ann@acme.test', account: { id: 'b' } }, 'new', 2_000_000));
    await apply(item({ id: 'u1', email: 'ann@acme.test', account: { id: 'a' } }, 'old', 1_500_000));
    // The older identity adds its link but does not take over the acting account.
    expect(await keysOfAnn()).toEqual(['b', 'a']);
  });

  it('counts each distinct recorded account once behind an idea', async () => {
    const idea = await recordFeedback(
      store,
      SITE,
      feedback({
        identity: ann({ account: { id: 'acme', monthly_rate: 10 }, accounts: [{ id: 'globex', monthly_rate: 50 }] }),
      }),
    );
    await recordFeedback(
      store,
      SITE,
      feedback({
        kind: 'support',
        idea_id: idea.id,
        title: undefined,
        identity: identity({
          id: 'u2',
          email: 'bob@globex.test',
          account: { id: 'globex' },
          accounts: [{ id: 'acme' }],
        }),
      }),
    );
    const stats = await ideaStats(store, SITE, (await store.getIdea(SITE, idea.id))!);
    // Ann acts in acme, Bob in globex: both accounts count, each once, at their MRR.
    expect(stats).toEqual({ supporters_count: 2, accounts_count: 2, mrr_cents: 6000 });
  });

  it('refuses an `accounts` entry without an id, and more than the limit, naming the field', () => {
    const noId = identitySchema.safeParse({ email: 'ann@acme.test', accounts: [{ id: 'a' }, { name: 'X' }] });
    expect(noId.error?.issues[0].path).toEqual(['accounts', 1, 'id']);
    const many = Array.from({ length: ACCOUNTS_PER_IDENTITY_MAX + 1 }, (_, i) => ({ id: `a${i}` }));
    expect(identitySchema.safeParse({ email: 'ann@acme.test', accounts: many }).error?.issues[0].path).toEqual([
      'accounts',
    ]);
  });
});

describe('an imported account and several accounts', () => {
  it('stays linked when the person later acts in another account', async () => {
    const rec = importUserSchema.parse({ external_id: 'u1', email: 'ann@acme.test', account: { external_id: 'acme' } });
    await importUsers(store, SITE, [rec], ++clock);
    // Admin rank, as the import: a page's unproven claim could not displace an imported account.
    await apply(item({ id: 'u1', email: 'ann@acme.test', account: { id: 'globex' } }, 'm1', ++clock, RANK.admin));
    expect(accountKeysOf((await store.getExternalUser(SITE, 'u1'))!)).toEqual(['globex', 'acme']);
    expect((await store.accountCounts(SITE, 'acme')).users_count).toBe(1);
  });
});

describe('a person stored before links existed', () => {
  it('keeps their old account linked when a newer identity acts in another', async () => {
    await recordFeedback(store, SITE, feedback({ identity: ann0() }));
    // As written before links: `account` alone.
    const eu = (await store.getExternalUser(SITE, 'u1'))!;
    eu.profile.f = { email: 'ann@acme.test', account: 'old-co' };
    eu.profile.v = { email: [0, 1, 'x'], account: [0, 1, 'x'] };
    await store.putExternalUser(eu);
    await apply(item({ id: 'u1', email: 'ann@acme.test', account: { id: 'new-co' } }, 'm1'));
    expect(accountKeysOf((await store.getExternalUser(SITE, 'u1'))!)).toEqual(['new-co', 'old-co']);
  });
});

function ann0(): Identity {
  return identity({ id: 'u1', email: 'ann@acme.test' });
}
