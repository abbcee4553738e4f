/**
 * Applying a transactional import (docs/API.md#http-api): an upsert by `external_id` of every record,
 * at admin rank (docs/API.md#trust; in `off` mode the rank every source shares), visible at once —
 * imported people never wait in the pending store. The records arrive validated and already
 * checked against the site's custom field definitions; this module only writes.
 *
 * Each record's fields merge at version [rank, at, index], so applying the same import twice
 * (a replay of the intake log after a crash) changes nothing the second time, and a later
 * import or bulk_identify still wins over an earlier one.
 */
import type { ImportAccount, ImportUser } from '../../shared/imports.ts';
import { emptyProfile, mergeInto, mergeProfile, RANK, type Version } from './merge.ts';
import {
  accountLinkField,
  isPrivateAccountKey,
  privateAccountKey,
  type Account,
  type ExternalUser,
  type User,
} from './records.ts';
import { newUser } from './identify.ts';
import type { Store } from './store.ts';

/** What an import asks of the store: records by key, and their writes (core/dry-run.ts answers it without writing). */
export type ImportStore = Pick<
  Store,
  | 'getExternalUser'
  | 'putExternalUser'
  | 'getUser'
  | 'getUserByEmail'
  | 'putUser'
  | 'getPending'
  | 'deletePending'
  | 'getAccount'
  | 'putAccount'
  | 'getPendingAccount'
  | 'deletePendingAccount'
>;

/** A top-level account record: its `external_id` is required. */
export type AccountRecord = ImportAccount & { external_id: string };

export interface UsersImported {
  externalUsers: ExternalUser[];
  users: User[];
  accounts: Account[];
}

/** An import has no message id: '' says so, and that the admin API wrote it (core/merge.ts). */
const versionOf = (rank: number, at: number, index: number): Version => [
  rank,
  at,
  `imp:${String(index).padStart(4, '0')}`,
  '',
];

function accountFieldsOf(a: ImportAccount): Record<string, unknown> {
  return {
    name: a.name,
    plan: a.plan,
    created_at: a.created_at,
    mrr_cents: a.mrr_cents,
    ltv_cents: a.ltv_cents,
    ...a.traits,
  };
}

/**
 * The visible account under `key`, created when missing. A new account absorbs what pending
 * identities said about it, so nothing they carried is lost when an import makes it visible.
 */
async function accountFor(
  store: ImportStore,
  site: string,
  key: string,
  externalId: string | null,
  at: number,
): Promise<Account> {
  const existing = await store.getAccount(site, key);
  if (existing) return existing;
  const account: Account = {
    site,
    key,
    external_id: externalId,
    profile: emptyProfile(),
    created_at: at,
    updated_at: at,
  };
  const held = await store.getPendingAccount(site, key);
  if (held) {
    account.external_id ??= held.external_id;
    mergeProfile(account.profile, held.profile);
    await store.deletePendingAccount(site, key);
  }
  return account;
}

/** Upserts one account's fields; returns it (written only when something changed). */
async function upsertAccount(
  store: ImportStore,
  site: string,
  key: string,
  a: ImportAccount,
  version: Version,
  at: number,
): Promise<Account> {
  const account = await accountFor(store, site, key, a.external_id ?? null, at);
  if (mergeInto(account.profile, accountFieldsOf(a), version).length > 0 || account.created_at === at) {
    account.updated_at = at;
    await store.putAccount(account);
  }
  return account;
}

/**
 * Tags are additive: an update adds to what is there, whatever its version, so two imports
 * tagging one person from different sources both stick. `replace` is an ordinary versioned
 * field write. Returns whether the tags changed.
 */
export function mergeTags(
  eu: ExternalUser,
  tags: string[] | undefined,
  mode: 'add' | 'replace',
  version: Version,
): boolean {
  if (!tags) return false;
  if (mode === 'replace') return mergeInto(eu.profile, { tags: [...tags].sort() }, version).length > 0;
  const current = Array.isArray(eu.profile.f.tags) ? (eu.profile.f.tags as string[]) : [];
  const union = [...new Set([...current, ...tags])].sort();
  const changed = union.length !== current.length;
  eu.profile.f.tags = union;
  const v = eu.profile.v.tags;
  if (!v || v[0] < version[0] || (v[0] === version[0] && v[1] < version[1])) eu.profile.v.tags = version;
  return changed;
}

/** The external user for a record: existing, or new and attached to the user with its email. */
async function externalUserFor(
  store: ImportStore,
  site: string,
  r: ImportUser,
  at: number,
): Promise<{ eu: ExternalUser; user: User }> {
  const eu = await store.getExternalUser(site, r.external_id);
  if (eu) {
    // docs/API.md#identify-semantics: an external user stays with the user it was first attached to.
    const user = (await store.getUser(site, eu.user_id)) ?? newUser(site, r.email, r.name, at);
    return { eu, user };
  }
  const user = (await store.getUserByEmail(site, r.email)) ?? newUser(site, r.email, r.name, at);
  const created: ExternalUser = {
    site,
    external_id: r.external_id,
    user_id: user.id,
    profile: emptyProfile(),
    created_at: at,
    updated_at: at,
  };
  const pending = await store.getPending(site, r.external_id);
  if (pending) {
    mergeProfile(created.profile, pending.profile);
    await store.deletePending(site, r.external_id);
  }
  return { eu: created, user };
}

/**
 * Applies an `external_users/import` batch; `at` is the admin time it was accepted at, `rank`
 * the rank the site's mode gave it then (admin, or the one rank of `off` mode).
 */
export async function importUsers(
  store: ImportStore,
  site: string,
  records: ImportUser[],
  at: number,
  rank: number = RANK.admin,
): Promise<UsersImported> {
  const externalUsers: ExternalUser[] = [];
  const users = new Map<string, User>();
  const accounts = new Map<string, Account>();
  for (const [index, r] of records.entries()) {
    const version = versionOf(rank, at, index);
    const { eu, user } = await externalUserFor(store, site, r, at);
    // Linked as an identity links them, so a later acting account keeps these (records.ts).
    const links: Record<string, true> = {};
    let accountKey: string | undefined;
    if (r.account) {
      accountKey = r.account.external_id ?? privateAccountKey(r.external_id);
      accounts.set(accountKey, await upsertAccount(store, site, accountKey, r.account, version, at));
      links[accountLinkField(accountKey)] = true;
    }
    for (const a of r.accounts ?? []) {
      accounts.set(a.external_id, await upsertAccount(store, site, a.external_id, a, version, at));
      links[accountLinkField(a.external_id)] = true;
    }
    const fields = {
      email: r.email,
      name: r.name,
      type: r.type,
      created_at: r.created_at,
      // The one they act in: `account`, else the first of `accounts` (docs/API.md#several-accounts).
      account: accountKey ?? r.accounts?.[0]?.external_id,
      ...links,
      ...r.traits,
    };
    const changed = mergeInto(eu.profile, fields, version).length > 0;
    if (mergeTags(eu, r.tags, r.tags_mode, version) || changed || eu.created_at === at) {
      eu.updated_at = at;
      await store.putExternalUser(eu);
    }
    if (typeof eu.profile.f.name === 'string' && eu.profile.f.name !== user.name) user.name = eu.profile.f.name;
    user.updated_at = Math.max(user.updated_at, eu.updated_at);
    await store.putUser(user);
    users.set(user.id, user);
    // The account the external user belongs to now, which a record without one leaves as is.
    const current = eu.profile.f.account;
    if (typeof current === 'string' && !accounts.has(current)) {
      const account = await accountFor(store, site, current, isPrivateAccountKey(current) ? null : current, at);
      if (account.created_at === at) await store.putAccount(account);
      accounts.set(current, account);
    }
    externalUsers.push(eu);
  }
  return { externalUsers, users: [...users.values()], accounts: [...accounts.values()] };
}

/** Applies an `external_accounts/import` batch (`at` and `rank` as for importUsers). */
export async function importAccounts(
  store: ImportStore,
  site: string,
  records: AccountRecord[],
  at: number,
  rank: number = RANK.admin,
): Promise<Account[]> {
  const out = new Map<string, Account>();
  for (const [index, r] of records.entries()) {
    out.set(r.external_id, await upsertAccount(store, site, r.external_id, r, versionOf(rank, at, index), at));
  }
  return [...out.values()];
}
