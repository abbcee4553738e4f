/**
 * Recording feedback, and with it the promotion of a pending identity (docs/API.md#identify-semantics): the
 * person becomes visible (user, external user, account) and the feedback is linked to them
 * with the account's MRR at that moment. Feedback carries its author's current identity, so
 * promotion never waits for the intake queue.
 */
import type { Identity } from '../../shared/identity.ts';
import { emptyProfile, mergeInto, mergeProfile, type Version } from './merge.ts';
import type { Account, ExternalUser, Feedback, Idea, User } from './records.ts';
import { accountFields, accountKeyOf, materializeAccount, newUser, userFields } from './identify.ts';
import type { Store } from './store.ts';

/** Feedback as logged and applied; ids are chosen before logging so a replay recreates them. */
export interface FeedbackItem extends Pick<
  Feedback,
  'id' | 'message_id' | 'kind' | 'title' | 'body' | 'idea_id' | 'score' | 'page_url' | 'created_at'
> {
  /** The author's identity, when the widget knew it (proofs already checked and stripped). */
  identity?: Identity;
  /** An anonymous author's email, when no identity was known. */
  email?: string;
  version: Version;
}

/** Records feedback; idempotent by message id (the same message returns the same feedback). */
export async function recordFeedback(store: Store, site: string, item: FeedbackItem): Promise<Feedback> {
  const existing = await store.getFeedbackByMessage(site, item.message_id);
  if (existing) return existing;
  const now = item.created_at;
  const feedback: Feedback = {
    site,
    id: item.id,
    message_id: item.message_id,
    kind: item.kind,
    title: item.title,
    body: item.body,
    idea_id: item.idea_id,
    score: item.score,
    page_url: item.page_url,
    user_id: null,
    external_user_id: null,
    account_key: null,
    mrr_cents_at: null,
    created_at: now,
  };
  // A new idea is created with the feedback that proposes it; its id is the feedback's.
  const idea: Idea | null =
    item.kind === 'idea' && item.title
      ? { site, id: item.id, title: item.title, body: item.body, created_at: now }
      : null;
  if (idea) feedback.idea_id = idea.id;

  if (item.identity) {
    await promote(store, site, item.identity, item.version, feedback, idea, now);
  } else if (item.email) {
    const user = (await store.getUserByEmail(site, item.email)) ?? newUser(site, item.email, undefined, now);
    feedback.user_id = user.id;
    await store.putUser(user);
    await store.putFeedback(feedback, idea);
  } else {
    await store.putFeedback(feedback, idea);
  }
  return feedback;
}

/**
 * Makes the identity's person visible and links the feedback to them, in one atomic store
 * call. Whatever the pending store held for them is merged with the identity the feedback
 * carries, field by field, so neither regresses the other.
 */
async function promote(
  store: Store,
  site: string,
  identity: Identity,
  version: Version,
  feedback: Feedback,
  idea: Idea | null,
  now: number,
) {
  const pending = await store.getPending(site, identity.id);
  let eu: ExternalUser | undefined = await store.getExternalUser(site, identity.id);
  if (!eu) {
    const user = await store.getUserByEmail(site, identity.email);
    eu = {
      site,
      external_id: identity.id,
      user_id: user?.id ?? newUser(site, identity.email, undefined, now).id,
      profile: emptyProfile(),
      created_at: now,
      updated_at: now,
    };
  }
  if (pending) mergeProfile(eu.profile, pending.profile);
  mergeInto(eu.profile, userFields(identity), version);
  eu.updated_at = now;

  const user: User = (await store.getUser(site, eu.user_id)) ?? newUser(site, identity.email, eu.profile.f.name, now);
  if (typeof eu.profile.f.name === 'string') user.name = eu.profile.f.name;
  user.updated_at = now;

  const { accounts, absorbed } = await promoteAccounts(
    store,
    site,
    identity,
    version,
    eu,
    pending?.account_keys ?? [],
    now,
  );
  const current = accounts.find((a) => a.key === eu.profile.f.account) ?? null;
  feedback.user_id = user.id;
  feedback.external_user_id = eu.external_id;
  feedback.account_key = current?.key ?? null;
  feedback.mrr_cents_at = typeof current?.profile.f.mrr_cents === 'number' ? current.profile.f.mrr_cents : null;
  await store.promote({
    site,
    user,
    externalUser: eu,
    accounts,
    pendingAccountKeys: absorbed,
    pendingId: pending ? identity.id : null,
    feedback,
    idea,
  });
}

/**
 * Every account the promoted person named while pending, their current one, and the one the
 * feedback's identity carries: made visible, with what pending identities held for them.
 */
async function promoteAccounts(
  store: Store,
  site: string,
  identity: Identity,
  version: Version,
  eu: ExternalUser,
  heldKeys: string[],
  now: number,
) {
  const own = identity.account ? accountKeyOf(identity) : null;
  const keys = new Set(heldKeys);
  if (own) keys.add(own);
  if (typeof eu.profile.f.account === 'string') keys.add(eu.profile.f.account);
  const accounts: Account[] = [];
  const absorbed: string[] = [];
  for (const key of keys) {
    const m = await materializeAccount(store, site, key, key === own ? (identity.account!.id ?? null) : null, now);
    if (key === own) mergeInto(m.account.profile, accountFields(identity.account!), version);
    m.account.updated_at = now;
    accounts.push(m.account);
    if (m.absorbed) absorbed.push(key);
  }
  return { accounts, absorbed };
}
