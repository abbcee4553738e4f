/**
 * Imports as dry runs (docs/API.md#http-api, `?dry_run=true`): the import's own code
 * (core/imports.ts) runs on an overlay that reads through to the store and keeps every write
 * to itself, and what it would have written is compared with what is stored, to count the
 * records an import would create, update or leave as they are. Nothing reaches the store, and
 * nothing is logged: a dry run is a read.
 *
 * The overlay hands out copies, never the store's own records (the memory store's would be
 * changed in place), and keeps them, so a record read twice in one run is the same record, as
 * it is in the memory store.
 */
import type { ImportUser } from '../../shared/imports.ts';
import { importAccounts, importUsers, type AccountRecord, type ImportStore } from './imports.ts';
import type { Account, ExternalUser, Pending, PendingAccount, User } from './records.ts';

/** What an import would do to one kind of record. */
export interface Tally {
  created: number;
  updated: number;
  unchanged: number;
}

export interface UsersPlan {
  external_users: Tally;
  users: Tally;
  external_accounts: Tally;
}

type Kind = 'eu' | 'user' | 'pending' | 'account' | 'pendingAccount';

/** The store as an import would leave it, without writing it. */
class Overlay implements ImportStore {
  /** `kind\0key` → the record as this run sees it (null: absent or deleted). */
  private readonly seen = new Map<string, unknown>();
  /** Keys this run wrote. */
  readonly written = new Set<string>();
  private readonly emails = new Map<string, string>();

  constructor(private readonly base: ImportStore) {}

  private async read<T>(kind: Kind, key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const id = `${kind}\0${key}`;
    if (!this.seen.has(id)) {
      const stored = await load();
      this.seen.set(id, stored === undefined ? null : structuredClone(stored));
    }
    return (this.seen.get(id) ?? undefined) as T | undefined;
  }
  private write(kind: Kind, key: string, value: unknown): void {
    this.seen.set(`${kind}\0${key}`, value);
    this.written.add(`${kind}\0${key}`);
  }

  getExternalUser = (site: string, id: string) => this.read('eu', id, () => this.base.getExternalUser(site, id));
  putExternalUser = async (eu: ExternalUser) => this.write('eu', eu.external_id, eu);
  getUser = (site: string, id: string) => this.read('user', id, () => this.base.getUser(site, id));
  getUserByEmail = async (site: string, email: string) => {
    const id = this.emails.get(email) ?? (await this.base.getUserByEmail(site, email))?.id;
    return id === undefined ? undefined : this.getUser(site, id);
  };
  putUser = async (user: User) => {
    this.emails.set(user.email, user.id);
    this.write('user', user.id, user);
  };
  getPending = (site: string, id: string) => this.read<Pending>('pending', id, () => this.base.getPending(site, id));
  deletePending = async (_site: string, id: string) => this.write('pending', id, null);
  getAccount = (site: string, key: string) => this.read('account', key, () => this.base.getAccount(site, key));
  putAccount = async (a: Account) => this.write('account', a.key, a);
  getPendingAccount = (site: string, key: string) =>
    this.read<PendingAccount>('pendingAccount', key, () => this.base.getPendingAccount(site, key));
  deletePendingAccount = async (_site: string, key: string) => this.write('pendingAccount', key, null);

  /** Counts `records` (the import's result: a record named twice is one) against what the store holds. */
  async tally<T>(kind: Kind, records: T[], keyOf: (r: T) => string, stored: (key: string) => Promise<T | undefined>) {
    const t: Tally = { created: 0, updated: 0, unchanged: 0 };
    for (const r of new Map(records.map((r) => [keyOf(r), r])).values()) {
      const before = await stored(keyOf(r));
      if (before === undefined) t.created++;
      else if (this.written.has(`${kind}\0${keyOf(r)}`) && JSON.stringify(before) !== JSON.stringify(r)) t.updated++;
      else t.unchanged++;
    }
    return t;
  }
}

/** What an `external_users/import` of `records` at admin time `at` and `rank` would do. */
export async function planUsersImport(
  store: ImportStore,
  site: string,
  records: ImportUser[],
  at: number,
  rank: number,
): Promise<UsersPlan> {
  const overlay = new Overlay(store);
  const done = await importUsers(overlay, site, records, at, rank);
  return {
    external_users: await overlay.tally(
      'eu',
      done.externalUsers,
      (eu) => eu.external_id,
      (id) => store.getExternalUser(site, id),
    ),
    users: await overlay.tally(
      'user',
      done.users,
      (u) => u.id,
      (id) => store.getUser(site, id),
    ),
    external_accounts: await overlay.tally(
      'account',
      done.accounts,
      (a) => a.key,
      (key) => store.getAccount(site, key),
    ),
  };
}

/** What an `external_accounts/import` of `records` at admin time `at` and `rank` would do. */
export async function planAccountsImport(
  store: ImportStore,
  site: string,
  records: AccountRecord[],
  at: number,
  rank: number,
): Promise<{ external_accounts: Tally }> {
  const overlay = new Overlay(store);
  const done = await importAccounts(overlay, site, records, at, rank);
  return {
    external_accounts: await overlay.tally(
      'account',
      done,
      (a) => a.key,
      (key) => store.getAccount(site, key),
    ),
  };
}
