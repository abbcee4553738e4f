/**
 * Recording feedback, and with it the promotion of a pending identity (docs/API.md#identify-semantics): the
 * person becomes visible (user, external user, account) and the feedback is linked to them
 * with the account's MRR at that moment. Feedback carries its author's current identity, so
 * promotion never waits for the intake queue.
 */
import type { Identity } from '../../shared/identity.ts';
import { emptyProfile, mergeInto, mergeProfile, type Version } from './merge.ts';
import {
  accountKeysOf,
  linkActingAccount,
  type Account,
  type ExternalUser,
  type Feedback,
  type Idea,
  type User,
} from './records.ts';
import { accountFields, accountsOf, materializeAccount, newUser, userFields } from './identify.ts';
import type { Store } from './store.ts';

/** Feedback as logged and applied; ids are chosen before logging so a replay recreates them. */
export interface FeedbackItem extends Pick<
  Feedback,
  'id' | 'message_id' | 'kind' | 'title' | 'body' | 'idea_id' | 'score' | 'page_url' | 'created_at' | 'source'
> {
  /** The author's identity, when the widget knew it (proofs already checked and stripped). */
  identity?: Identity;
  /** An anonymous author's email, when no identity was known. */
  email?: string;
  /**
   * Admin API only (core/admin-feedback.ts): the author as a known external user or pending
   * identity, by the integrator's id — promoted like an identity, with nothing to merge.
   */
  external_id?: string;
  /** Admin API only: a known user with no external user to speak for them. */
  user_id?: string;
  version: Version;
  /**
   * When the records the feedback touches are written; `created_at` unless the admin API
   * back-dates the feedback (history), which must not back-date the people it names.
   */
  recorded_at?: number;
}

/** Who gives the feedback: an integrator id and the email that finds or makes their user. */
interface Author {
  id: string;
  email: string;
  /** What the feedback says about them, merged at its version (none when named by id alone). */
  identity?: Identity;
}

/** Records feedback; idempotent by message id (the same message returns the same feedback). */
export async function recordFeedback(store: Store, site: string, item: FeedbackItem): Promise<Feedback> {
  const existing = await store.getFeedbackByMessage(site, item.message_id);
  if (existing) return existing;
  const now = item.recorded_at ?? item.created_at;
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
    created_at: item.created_at,
    ...(item.source === undefined ? {} : { source: item.source }),
  };
  // A new idea is created with the feedback that proposes it; its id is the feedback's.
  const idea: Idea | null =
    item.kind === 'idea' && item.title
      ? { site, id: item.id, title: item.title, body: item.body, created_at: item.created_at }
      : null;
  if (idea) feedback.idea_id = idea.id;

  if (item.identity) {
    const author = { id: item.identity.id, email: item.identity.email, identity: item.identity };
    await promote(store, site, author, item.version, feedback, idea, now);
  } else if (item.external_id !== undefined) {
    await promote(store, site, await knownAuthor(store, site, item.external_id), item.version, feedback, idea, now);
  } else if (item.user_id !== undefined) {
    const user = await store.getUser(site, item.user_id);
    if (!user) throw new Error(`no user ${item.user_id} to attribute feedback to`);
    feedback.user_id = user.id;
    await store.putFeedback(feedback, idea);
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

/** An author named by integrator id: a visible external user, else a pending identity. */
async function knownAuthor(store: Store, site: string, externalId: string): Promise<Author> {
  const known = (await store.getExternalUser(site, externalId)) ?? (await store.getPending(site, externalId));
  const email = known?.profile.f.email;
  if (typeof email !== 'string') throw new Error(`no external user or pending identity ${externalId}`);
  return { id: externalId, email };
}

/**
 * Makes the author visible and links the feedback to them, in one atomic store call. Whatever
 * the pending store held for them is merged with the identity the feedback carries, field by
 * field, so neither regresses the other.
 */
async function promote(
  store: Store,
  site: string,
  author: Author,
  version: Version,
  feedback: Feedback,
  idea: Idea | null,
  now: number,
) {
  const { identity } = author;
  const pending = await store.getPending(site, author.id);
  let eu: ExternalUser | undefined = await store.getExternalUser(site, author.id);
  if (!eu) {
    const user = await store.getUserByEmail(site, author.email);
    eu = {
      site,
      external_id: author.id,
      user_id: user?.id ?? newUser(site, author.email, undefined, now).id,
      profile: emptyProfile(),
      created_at: now,
      updated_at: now,
    };
  }
  linkActingAccount(eu.profile);
  if (pending) {
    linkActingAccount(pending.profile);
    mergeProfile(eu.profile, pending.profile);
  }
  if (identity) mergeInto(eu.profile, userFields(identity), version);
  eu.updated_at = now;

  const user: User = (await store.getUser(site, eu.user_id)) ?? newUser(site, author.email, eu.profile.f.name, now);
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
  const [currentKey] = accountKeysOf(eu);
  const current = accounts.find((a) => a.key === currentKey) ?? null;
  feedback.user_id = user.id;
  feedback.external_user_id = eu.external_id;
  feedback.account_key = current?.key ?? null;
  feedback.mrr_cents_at = typeof current?.profile.f.mrr_cents === 'number' ? current.profile.f.mrr_cents : null;
  // The plan then, for segments read "as then" (docs/API.md#segments); absent on older feedback.
  feedback.plan_at = typeof current?.profile.f.plan === 'string' ? current.profile.f.plan : null;
  await store.promote({
    site,
    user,
    externalUser: eu,
    accounts,
    pendingAccountKeys: absorbed,
    pendingId: pending ? author.id : null,
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
  identity: Identity | undefined,
  version: Version,
  eu: ExternalUser,
  heldKeys: string[],
  now: number,
) {
  const named = new Map(identity ? accountsOf(identity).map((a) => [a.key, a]) : []);
  const keys = new Set(heldKeys);
  for (const key of named.keys()) keys.add(key);
  for (const key of accountKeysOf(eu)) keys.add(key);
  const accounts: Account[] = [];
  const absorbed: string[] = [];
  for (const key of keys) {
    const own = named.get(key);
    const m = await materializeAccount(store, site, key, own?.id ?? null, now);
    if (own) mergeInto(m.account.profile, accountFields(own.input), version);
    m.account.updated_at = now;
    accounts.push(m.account);
    if (m.absorbed) absorbed.push(key);
  }
  return { accounts, absorbed };
}
