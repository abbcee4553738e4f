/**
 * Filtering and ordering of user and account listings for the memory store: the part of a
 * SQL `WHERE ... ORDER BY` that Maps cannot express. Pure. Every order ends with the record's
 * id, so pages are stable: the same query never shows a record twice or skips one while the
 * data stands still.
 */
import type { Account, ExternalUser, User } from '../core/records.ts';
import type { AccountSort, UserQuery, UserSort } from './types.ts';

export function hasUserFilter(q: UserQuery): boolean {
  return Boolean(q.q || q.account || q.type || q.tag || q.updatedAfter !== undefined);
}

/**
 * Whether a user passes every filter of `q`. Their external users are asked for only when a
 * filter needs them, so a search by name or email costs no lookups.
 */
export function matchesUser(u: User, externals: () => ExternalUser[], q: UserQuery): boolean {
  let eus: ExternalUser[] | undefined;
  const all = () => (eus ??= externals());
  if (q.updatedAfter !== undefined && u.updated_at <= q.updatedAfter && !all().some((e) => e.updated_at > q.updatedAfter!)) return false;
  // Emails are stored lower-case; a user's name follows their external user's on every import.
  if (q.q) {
    const needle = q.q.toLowerCase();
    if (!u.email.includes(needle) && !(u.name !== undefined && u.name.toLowerCase().includes(needle))) return false;
  }
  if (q.account && !all().some((e) => e.profile.f.account === q.account)) return false;
  if (q.type && !all().some((e) => e.profile.f.type === q.type)) return false;
  if (q.tag && !all().some((e) => Array.isArray(e.profile.f.tags) && (e.profile.f.tags as string[]).includes(q.tag!))) return false;
  return true;
}

type Key = string | number;

function compareKeys(a: Key, b: Key): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sorter<T>(field: (t: T) => Key, id: (t: T) => string, desc: boolean) {
  return (a: T, b: T) => {
    const c = compareKeys(field(a), field(b)) || compareKeys(id(a), id(b));
    return desc ? -c : c;
  };
}

/** A comparator for a user order; missing names sort first ascending. */
export function compareUsers(sort: UserSort): (a: User, b: User) => number {
  const desc = sort.startsWith('-');
  const name = sort.replace('-', '') as 'created_at' | 'updated_at' | 'name' | 'email';
  const field = name === 'name' ? (u: User) => (u.name ?? '').toLowerCase() : (u: User) => u[name];
  return sorter(field, (u) => u.id, desc);
}

/** A comparator for an account order; accounts without MRR or LTV count as 0. */
export function compareAccounts(sort: AccountSort): (a: Account, b: Account) => number {
  const desc = sort.startsWith('-');
  const name = sort.replace('-', '') as 'created_at' | 'name' | 'mrr_cents' | 'ltv_cents';
  const field = (a: Account): Key => {
    if (name === 'created_at') return a.created_at;
    const v = a.profile.f[name];
    if (name === 'name') return typeof v === 'string' ? v.toLowerCase() : '';
    return typeof v === 'number' ? v : 0;
  };
  return sorter(field, (a) => a.key, desc);
}
