/**
 * Filtering, ordering and paging of listings for the memory store: the part of a SQL
 * `WHERE ... ORDER BY ... LIMIT` that Maps cannot express. Pure. Every order ends with the
 * record's id, so pages are stable: the same query never shows a record twice or skips one
 * while the data stands still. The orders' keys are the cursors of keyset pages, the same
 * values the PostgreSQL store's orders key on (engines/postgres/rows.ts); both check a cursor's
 * shape with core/store.ts's `cursorOf`.
 */
import { accountKeysOf, type Account, type ExternalUser, type Feedback, type User } from '../../core/records.ts';
import {
  BadCursor,
  cursorOf,
  type AccountSort,
  type Cursor,
  type CursorType,
  type Page,
  type PageQuery,
  type UserQuery,
  type UserSort,
} from '../../core/store.ts';

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
  if (
    q.updatedAfter !== undefined &&
    u.updated_at <= q.updatedAfter &&
    !all().some((e) => e.updated_at > q.updatedAfter!)
  )
    return false;
  // Emails are stored lower-case; a user's name follows their external user's on every import.
  if (q.q) {
    const needle = q.q.toLowerCase();
    if (!u.email.includes(needle) && !(u.name !== undefined && u.name.toLowerCase().includes(needle))) return false;
  }
  if (q.account && !all().some((e) => accountKeysOf(e).includes(q.account!))) return false;
  if (q.type && !all().some((e) => e.profile.f.type === q.type)) return false;
  if (q.tag && !all().some((e) => Array.isArray(e.profile.f.tags) && (e.profile.f.tags as string[]).includes(q.tag!)))
    return false;
  return true;
}

type Key = string | number;

function compareKeys(a: Key, b: Key): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An order as the key of a record (its sort value, then its id) and a direction. */
export interface Order<T> {
  key: (t: T) => [Key, string];
  desc: boolean;
  types: [CursorType, CursorType];
}

function compareTuples(a: Cursor, b: Cursor, desc: boolean): number {
  const c = compareKeys(a[0], b[0]) || compareKeys(a[1], b[1]);
  return desc ? -c : c;
}

function comparator<T>(o: Order<T>): (a: T, b: T) => number {
  return (a, b) => compareTuples(o.key(a), o.key(b), o.desc);
}

/** A user order; missing names sort first ascending. */
export function userOrder(sort: UserSort): Order<User> {
  const name = sort.replace('-', '') as 'created_at' | 'updated_at' | 'name' | 'email';
  const desc = sort.startsWith('-');
  if (name === 'name') return { key: (u) => [(u.name ?? '').toLowerCase(), u.id], desc, types: ['string', 'string'] };
  return { key: (u) => [u[name], u.id], desc, types: [name === 'email' ? 'string' : 'number', 'string'] };
}

/** An account order; accounts without MRR or LTV count as 0. */
export function accountOrder(sort: AccountSort): Order<Account> {
  const name = sort.replace('-', '') as 'created_at' | 'name' | 'mrr_cents' | 'ltv_cents';
  const desc = sort.startsWith('-');
  if (name === 'created_at') return { key: (a) => [a.created_at, a.key], desc, types: ['number', 'string'] };
  if (name === 'name')
    return {
      key: (a) => [typeof a.profile.f.name === 'string' ? a.profile.f.name.toLowerCase() : '', a.key],
      desc,
      types: ['string', 'string'],
    };
  return {
    key: (a) => [typeof a.profile.f[name] === 'number' ? (a.profile.f[name] as number) : 0, a.key],
    desc,
    types: ['number', 'string'],
  };
}

/** One user's feedback (UserFeedbackQuery): newest first by its time, then by message id. */
export const feedbackOrder: Order<Feedback> = {
  key: (f) => [f.created_at, f.message_id],
  desc: true,
  types: ['number', 'string'],
};

/**
 * One page of `items` (all of them: sorted here by `by` when it is an order, else already in
 * creation order). With `q.after`, the page starts after that key: by comparison for an order,
 * else after the item with that id, which must still be there. Otherwise it starts at the
 * offset of `q.page`.
 */
export function pageOf<T>(items: T[], q: PageQuery, by: Order<T> | { id: (t: T) => string }): Page<T> {
  if ('key' in by) items.sort(comparator(by));
  let start = (q.page - 1) * q.perPage;
  if (q.after) {
    if ('key' in by) {
      const after = cursorOf(q.after, by.types);
      start = items.findIndex((t) => compareTuples(by.key(t), after, by.desc) > 0);
    } else {
      const [id] = cursorOf(q.after, ['string']);
      const at = items.findIndex((t) => by.id(t) === id);
      if (at < 0) throw new BadCursor('the record this cursor points at is gone; start again from the first page');
      start = at + 1;
    }
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + q.perPage);
  const last = page[page.length - 1];
  const next =
    last !== undefined && start + page.length < items.length ? ('key' in by ? by.key(last) : [by.id(last)]) : null;
  return { items: page, total: items.length, next };
}
