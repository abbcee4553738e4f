/**
 * Rows one transaction reads ahead of the core. Applying an identify entry asks, person after
 * person, for a message id, an external user, a user by email, a pending identity, an account
 * and a pending account: six round trips each, one after another (docs/PERFORMANCE.md). Read
 * ahead, they are six statements for the whole entry. The store answers those lookups from
 * here — a row, or "not there" — and its writes keep it current, so the transaction sees what
 * it would have seen by asking: its own snapshot plus its own writes. A ReadAhead belongs to
 * one attempt of one transaction; a retry starts with a new one.
 */
import type { Account, ExternalUser, Pending, PendingAccount, Site, User } from '../../core/records.ts';

export interface Kinds {
  message: true;
  externalUser: ExternalUser;
  userByEmail: User;
  pending: Pending;
  account: Account;
  pendingAccount: PendingAccount;
}
export type Kind = keyof Kinds;

/** What to read ahead, for one site. */
export interface Keys {
  messageIds: string[];
  externalIds: string[];
  emails: string[];
  accountKeys: string[];
}

export class ReadAhead {
  private readonly rows = new Map<Kind, Map<string, unknown>>();
  /** The site's row as the transaction read it (its custom fields); undefined: not read. */
  siteRow?: Site;

  constructor(readonly site: string) {}

  /** The row read ahead or written since (null: known not to exist), or undefined: not known here. */
  lookup<K extends Kind>(kind: K, site: string, key: string): Kinds[K] | null | undefined {
    if (site !== this.site) return undefined;
    return this.rows.get(kind)?.get(key) as Kinds[K] | null | undefined;
  }

  /** Records what the database holds, or will once this transaction commits. */
  set<K extends Kind>(kind: K, site: string, key: string, row: Kinds[K] | null): void {
    if (site !== this.site) return;
    let m = this.rows.get(kind);
    if (!m) this.rows.set(kind, (m = new Map()));
    m.set(key, row);
  }

  /** Marks every key asked for, then the rows found: what was not found is known absent. */
  fill<K extends Kind>(kind: K, keys: string[], found: [string, Kinds[K]][]): void {
    for (const k of keys) this.set(kind, this.site, k, null);
    for (const [k, row] of found) this.set(kind, this.site, k, row);
  }

  /** A user written or deleted: the email index moves with it. */
  user(site: string, id: string, now: User | null): void {
    for (const [email, u] of this.rows.get('userByEmail') ?? []) {
      if ((u as User | null)?.id === id && email !== now?.email) this.set('userByEmail', site, email, null);
    }
    if (now) this.set('userByEmail', site, now.email, now);
  }
}
