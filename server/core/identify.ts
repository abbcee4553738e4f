/**
 * Applying one identity to the store: the heart of CONTRACT §5.
 *
 * - An identity whose external user exists, or whose email belongs to a visible user, updates
 *   the visible records at once.
 * - An identity never seen before waits in the pending store, invisible in listings.
 * - An account that already exists is updated at once even while its user is pending.
 * - Every field merges by version (merge.ts), so duplicates and reordering never regress data.
 */
import { createHash } from 'node:crypto';
import type { Identity } from '../../shared/identity.ts';
import { emptyProfile, mergeInto, type Version } from './merge.ts';
import { privateAccountKey, type Account, type ExternalUser, type User } from './records.ts';
import type { Store } from '../store/types.ts';

/** An identity as logged and applied: validated, with the version its fields are written at. */
export interface IdentifyItem {
  message_id: string;
  version: Version;
  identity: Identity;
}

export type ApplyOutcome = 'duplicate' | 'updated' | 'attached' | 'pending';

/** Profile fields of an external user, from an identity (proofs are never stored). */
export function userFields(identity: Identity): Record<string, unknown> {
  return {
    email: identity.email,
    name: identity.name,
    type: identity.type,
    created_at: identity.created_at,
    app_version: identity.app_version,
    location: identity.location,
    timezone: identity.timezone,
    locale: identity.locale,
    account: identity.account ? accountKeyOf(identity) : undefined,
    ...identity.traits,
  };
}

/** Profile fields of an account, from an identity's embedded account. */
export function accountFields(account: NonNullable<Identity['account']>): Record<string, unknown> {
  return {
    name: account.name,
    plan: account.plan,
    created_at: account.created_at,
    mrr_cents: account.mrr_cents,
    ltv_cents: account.ltv_cents,
    ...account.traits,
  };
}

export function accountKeyOf(identity: Identity): string {
  return identity.account?.id ?? privateAccountKey(identity.id);
}

/**
 * A user's id is derived from its site and email, so that replaying the intake log after a
 * crash recreates the same ids that listings already handed out.
 */
export function userIdFor(site: string, email: string): string {
  return 'u_' + createHash('sha256').update(`${site}\u0000${email}`).digest('hex').slice(0, 20);
}

export function newUser(site: string, email: string, name: unknown, now: number): User {
  return { site, id: userIdFor(site, email), email, name: typeof name === 'string' ? name : undefined, created_at: now, updated_at: now };
}

/**
 * Upserts the identity's account into the visible store (creating it when `create`), and
 * returns it; without `create`, only an existing account is updated.
 */
export async function upsertAccount(store: Store, site: string, item: IdentifyItem, now: number, create: boolean): Promise<Account | null> {
  const a = item.identity.account;
  if (!a) return null;
  const key = accountKeyOf(item.identity);
  let account = await store.getAccount(site, key);
  if (!account) {
    if (!create) return null;
    account = { site, key, external_id: a.id ?? null, profile: emptyProfile(), created_at: now, updated_at: now };
  }
  if (mergeInto(account.profile, accountFields(a), item.version).length > 0 || account.created_at === now) {
    account.updated_at = now;
    await store.putAccount(account);
  }
  return account;
}

/** Applies one identity. Idempotent by message id. */
export async function applyIdentity(store: Store, site: string, item: IdentifyItem, now: number): Promise<ApplyOutcome> {
  if (await store.hasMessage(site, item.message_id)) return 'duplicate';
  const outcome = await applyFresh(store, site, item, now);
  await store.addMessage(site, item.message_id, now);
  return outcome;
}

async function applyFresh(store: Store, site: string, item: IdentifyItem, now: number): Promise<ApplyOutcome> {
  const { identity, version } = item;
  const existing = await store.getExternalUser(site, identity.id);
  if (existing) {
    if (mergeInto(existing.profile, userFields(identity), version).length > 0) {
      existing.updated_at = now;
      await store.putExternalUser(existing);
    }
    await upsertAccount(store, site, item, now, true);
    return 'updated';
  }
  const user = await store.getUserByEmail(site, identity.email);
  if (user) {
    const eu: ExternalUser = { site, external_id: identity.id, user_id: user.id, profile: emptyProfile(), created_at: now, updated_at: now };
    mergeInto(eu.profile, userFields(identity), version);
    await store.putExternalUser(eu);
    await upsertAccount(store, site, item, now, true);
    return 'attached';
  }
  await holdPending(store, site, item, now);
  return 'pending';
}

/** Keeps a never-seen identity in the pending store; an existing account still updates now. */
async function holdPending(store: Store, site: string, item: IdentifyItem, now: number): Promise<void> {
  const { identity, version } = item;
  const pending = (await store.getPending(site, identity.id)) ?? {
    site, external_id: identity.id, profile: emptyProfile(), accounts: [], received_at: now,
  };
  mergeInto(pending.profile, userFields(identity), version);
  if (identity.account) {
    // Held per account key: which one the user belongs to is itself a versioned field
    // (`account`), so a late, older identity naming another account cannot win.
    const key = accountKeyOf(identity);
    let held = pending.accounts.find((a) => a.key === key);
    if (!held) pending.accounts.push((held = { key, external_id: identity.account.id ?? null, profile: emptyProfile() }));
    mergeInto(held.profile, accountFields(identity.account), version);
    await upsertAccount(store, site, item, now, false);
  }
  pending.received_at = now;
  await store.putPending(pending);
}
