/**
 * Applying one identity to the store: the heart of the semantics (docs/API.md#identify-semantics).
 *
 * - An identity whose external user exists, or whose email belongs to a visible user, updates
 *   the visible records at once — unless that email is only a claim (`email_claim`).
 * - An identity never seen before waits in the pending store, invisible in listings.
 * - An account that already exists is updated at once even while its user is pending.
 * - Every field merges by version (merge.ts), so duplicates and reordering never regress data.
 */
import { createHash } from 'node:crypto';
import type { Identity } from '../../shared/identity.ts';
import { emptyProfile, mergeInto, mergeProfile, type Version } from './merge.ts';
import { privateAccountKey, type Account, type ExternalUser, type Pending, type User } from './records.ts';
import type { Store } from './store.ts';

/** An identity as logged and applied: validated, with the version its fields are written at. */
export interface IdentifyItem {
  message_id: string;
  version: Version;
  identity: Identity;
  /**
   * Set when the identity's email is only a claim: the site ranks sources and no proof covers
   * the email (unproven, or a user_hash, which proves the id alone; docs/API.md#trust). Such an
   * identity never attaches a new external user to a visible user by email; it waits pending
   * until its own feedback (server/trust/attribution.ts decides whose it is), an identity of the
   * same id whose email is proven (a token's claims, the admin API) or an import makes it visible.
   */
  email_claim?: true;
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
  return {
    site,
    id: userIdFor(site, email),
    email,
    name: typeof name === 'string' ? name : undefined,
    created_at: now,
    updated_at: now,
  };
}

/**
 * The account under `key`, as it is or, when it does not exist yet, newly made from what
 * pending identities said about it. Writes nothing; `absorbed` says a pending account must go.
 */
export async function materializeAccount(
  store: Store,
  site: string,
  key: string,
  externalId: string | null,
  now: number,
): Promise<{ account: Account; absorbed: boolean; created: boolean }> {
  const existing = await store.getAccount(site, key);
  if (existing) return { account: existing, absorbed: false, created: false };
  const account: Account = {
    site,
    key,
    external_id: externalId,
    profile: emptyProfile(),
    created_at: now,
    updated_at: now,
  };
  const held = await store.getPendingAccount(site, key);
  if (held) {
    account.external_id = held.external_id;
    mergeProfile(account.profile, held.profile);
  }
  return { account, absorbed: held !== undefined, created: true };
}

/** Creates or updates a visible account with `fields`; writes only what changed. */
async function putVisibleAccount(
  store: Store,
  site: string,
  key: string,
  externalId: string | null,
  fields: Record<string, unknown>,
  version: Version,
  now: number,
): Promise<Account> {
  const { account, absorbed, created } = await materializeAccount(store, site, key, externalId, now);
  if (mergeInto(account.profile, fields, version).length > 0 || created) {
    account.updated_at = now;
    await store.putAccount(account);
  }
  if (absorbed) await store.deletePendingAccount(site, key);
  return account;
}

/** Applies one identity. Idempotent by message id. */
export async function applyIdentity(
  store: Store,
  site: string,
  item: IdentifyItem,
  now: number,
): Promise<ApplyOutcome> {
  // An admin item sent without a message id carries one the server made (its version's fourth
  // element is '', routes/admin.ts): no client will ever retry it, and the log position already
  // identifies it, so it is neither looked up nor remembered (README, Limits of the embedded store).
  const clientMade = item.version[3] !== '';
  if (clientMade && (await store.hasMessage(site, item.message_id))) return 'duplicate';
  const outcome = await applyFresh(store, site, item, now);
  if (clientMade) await store.addMessage(site, item.message_id, now);
  return outcome;
}

async function applyFresh(store: Store, site: string, item: IdentifyItem, now: number): Promise<ApplyOutcome> {
  const { identity, version } = item;
  let eu = await store.getExternalUser(site, identity.id);
  let outcome: ApplyOutcome = 'updated';
  if (!eu) {
    // Whether a claimed email may attach depends only on the item, never on what else has been
    // applied, so any order of the same identities still ends in the same state.
    const user = item.email_claim ? undefined : await store.getUserByEmail(site, identity.email);
    if (!user) {
      await holdPending(store, site, item, now);
      return 'pending';
    }
    eu = {
      site,
      external_id: identity.id,
      user_id: user.id,
      profile: emptyProfile(),
      created_at: now,
      updated_at: now,
    };
    outcome = 'attached';
    await absorbPending(store, site, eu, now);
  }
  if (mergeInto(eu.profile, userFields(identity), version).length > 0 || outcome === 'attached') {
    eu.updated_at = now;
    await store.putExternalUser(eu);
  }
  const a = identity.account;
  if (a) await putVisibleAccount(store, site, accountKeyOf(identity), a.id ?? null, accountFields(a), version, now);
  return outcome;
}

/**
 * When a pending identity becomes visible by attaching to a known email, what the pending
 * store held for it moves into the new external user, and every account it named becomes
 * visible too, so the outcome does not depend on which of its updates arrived first.
 */
async function absorbPending(store: Store, site: string, eu: ExternalUser, now: number): Promise<void> {
  const pending = await store.getPending(site, eu.external_id);
  if (!pending) return;
  mergeProfile(eu.profile, pending.profile);
  for (const key of pending.account_keys) await putVisibleAccount(store, site, key, null, {}, [0, 0, ''], now);
  await store.deletePending(site, eu.external_id);
}

/**
 * Keeps a never-seen identity in the pending store. Its account is updated at once when it
 * exists (docs/API.md#identify-semantics), and otherwise held as a pending account until someone makes it visible.
 */
async function holdPending(store: Store, site: string, item: IdentifyItem, now: number): Promise<void> {
  const { identity, version } = item;
  const pending: Pending = (await store.getPending(site, identity.id)) ?? {
    site,
    external_id: identity.id,
    profile: emptyProfile(),
    account_keys: [],
    received_at: now,
  };
  mergeInto(pending.profile, userFields(identity), version);
  const a = identity.account;
  if (a) {
    const key = accountKeyOf(identity);
    if (!pending.account_keys.includes(key)) pending.account_keys.push(key);
    const fields = accountFields(a);
    const account = await store.getAccount(site, key);
    if (account) {
      if (mergeInto(account.profile, fields, version).length > 0) {
        account.updated_at = now;
        await store.putAccount(account);
      }
    } else {
      const held = (await store.getPendingAccount(site, key)) ?? {
        site,
        key,
        external_id: a.id ?? null,
        profile: emptyProfile(),
        updated_at: now,
      };
      mergeInto(held.profile, fields, version);
      held.updated_at = now;
      await store.putPendingAccount(held);
    }
  }
  pending.received_at = now;
  await store.putPending(pending);
}
