/**
 * The stored records. A *user* is a person, unique by email within a site; an *external user*
 * is the integrator's record of them (keyed by the integrator's id); an *account* is the
 * integrator's customer account. A *pending* identity is one never seen before: it waits,
 * invisible, until its person gives feedback (docs/API.md#identify-semantics).
 */
import type { CustomFieldDef } from '../../shared/imports.ts';
import type { FeedbackKind } from '../../shared/limits.ts';
import type { RevenueTrait } from '../../shared/revenue-traits.ts';
import { PRIVATE_ACCOUNT_PREFIX } from '../../shared/text.ts';
import type { Profile } from './merge.ts';

export type Verification = 'off' | 'optional' | 'required';

export interface Site {
  key: string;
  name: string;
  /** SHA-256 of the admin key: the key itself is shown once and never stored. */
  admin_key_hash: string;
  /** Identity secrets (HS256 / HMAC); two during a rotation. */
  identity_secrets: string[];
  origins: string[];
  verification: Verification;
  /**
   * Grows each time the site switches to `off` from a mode that ranks sources; part of every rank
   * written on the site (server/trust/ranks.ts). Absent on sites that never switched.
   */
  rank_era?: number;
  /** SHA-256 of the write key for the /v1 routes (server/sites.ts); absent on sites made before it. */
  write_key_hash?: string;
  /** Shared secret of a Segment Webhooks destination's `X-Signature`; absent: not checked. */
  segment_secret?: string;
  /** false when the site turned location from the request address off. @default true */
  geoip?: boolean;
  /** The trait that carries an account's revenue; absent: the defaults (shared/revenue-traits.ts). */
  revenue_trait?: RevenueTrait;
  created_at: number;
  /** Custom field definitions (docs/API.md#http-api); absent until the site defines one. */
  custom_fields?: CustomFieldDef[];
  /** Saved segments, name → filters (parameter → values; docs/API.md#segments); absent until one is saved. */
  segments?: Record<string, Record<string, string[]>>;
}

export interface User {
  site: string;
  id: string;
  email: string;
  name?: string;
  created_at: number;
  updated_at: number;
}

/** Fields of an external user's profile: email, name, type, created_at, app_version, location,
 * timezone, locale, account (the account key) and cf_* traits. */
export interface ExternalUser {
  site: string;
  external_id: string;
  /**
   * The user it was first attached to, or last linked to by an admin (`PUT
   * /external_users/:id/user`); an email change never moves it (docs/API.md#identify-semantics).
   */
  user_id: string;
  profile: Profile;
  created_at: number;
  updated_at: number;
}

/** Fields: name, plan, mrr_cents, ltv_cents, created_at and cf_* traits. */
export interface Account {
  site: string;
  /** The integrator's account id, or privateAccountKey(external user id) for an account private to one user. */
  key: string;
  external_id: string | null;
  profile: Profile;
  created_at: number;
  updated_at: number;
}

export interface Pending {
  site: string;
  external_id: string;
  profile: Profile;
  /** Every account it named; they become visible with it. */
  account_keys: string[];
  received_at: number;
}

/**
 * What pending identities said about an account that does not exist yet. Kept per account,
 * not per identity, so that whichever path creates the account later (a promotion, an
 * identity attaching to a known email, an import) absorbs it, in any arrival order.
 */
export interface PendingAccount {
  site: string;
  key: string;
  external_id: string | null;
  profile: Profile;
  updated_at: number;
}

export interface Feedback {
  site: string;
  id: string;
  message_id: string;
  kind: FeedbackKind;
  title?: string;
  body?: string;
  idea_id?: string;
  score?: number;
  page_url?: string;
  user_id: string | null;
  external_user_id: string | null;
  account_key: string | null;
  /** The account's MRR when the feedback was given. */
  mrr_cents_at: number | null;
  /**
   * The account's plan when the feedback was given (null: it had none). Absent on feedback
   * recorded before plans were kept, which segments read "as then" by the plan now.
   */
  plan_at?: string | null;
  created_at: number;
  /**
   * Where it came from, a short label the admin API sets (`support`, `sales-call`; `api` when
   * the sender names none). Absent on feedback the widget sent.
   */
  source?: string;
}

export interface Idea {
  site: string;
  id: string;
  title: string;
  body?: string;
  created_at: number;
}

/**
 * The key of an account private to one external user (docs/API.md#the-identity-object: an account
 * with no id). Client account ids never start with the prefix (shared/text.ts refuses them), so
 * no client can name this key and reach someone else's private account.
 */
export function privateAccountKey(externalUserId: string): string {
  return `${PRIVATE_ACCOUNT_PREFIX}${externalUserId}`;
}

/** Whether an account key is a private account's rather than an integrator's id. */
export function isPrivateAccountKey(key: string): boolean {
  return key.startsWith(PRIVATE_ACCOUNT_PREFIX);
}

/**
 * An external user's link to one account is a profile field of its own, `account:<key>` (value
 * `true`), versioned like every other field (merge.ts). Links from different messages are then
 * separate fields whose per-field maximum is their union, so they merge in any order; the
 * `account` field stays the one the person is acting in (docs/API.md#the-identity-object).
 */
export const ACCOUNT_LINK_PREFIX = 'account:';

/** The profile field linking an external user to the account `key`. */
export function accountLinkField(key: string): string {
  return ACCOUNT_LINK_PREFIX + key;
}

/**
 * The keys of the accounts an external user belongs to: the one it acts in (its `account`
 * field) first, then every other linked account in key order, so the answer does not depend on
 * the order the links arrived in. Code that asks which accounts a person has asks here.
 */
export function accountKeysOf(eu: ExternalUser): string[] {
  return linkedKeys(eu.profile);
}

/**
 * Gives a profile written before links existed (an `account` field and no link to it) the link
 * it implies, at the `account` field's own version, so a later acting account does not drop the
 * old one. Every write since sets both, so this changes only such records, on their first write.
 */
export function linkActingAccount(profile: Profile): void {
  const acting = profile.f.account;
  if (typeof acting !== 'string' || profile.v.account === undefined) return;
  const link = accountLinkField(acting);
  if (profile.f[link] !== undefined) return;
  profile.f[link] = true;
  profile.v[link] = profile.v.account;
}

/** accountKeysOf for a profile (a pending identity's too). */
export function linkedKeys(profile: Profile): string[] {
  const acting = profile.f.account;
  const others: string[] = [];
  for (const name of Object.keys(profile.f)) {
    if (!name.startsWith(ACCOUNT_LINK_PREFIX)) continue;
    const key = name.slice(ACCOUNT_LINK_PREFIX.length);
    if (key !== acting) others.push(key);
  }
  others.sort();
  return typeof acting === 'string' ? [acting, ...others] : others;
}
