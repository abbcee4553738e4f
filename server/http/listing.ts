/**
 * Query parameters of the listings (docs/API.md#http-api): paging, filters and sort orders, parsed once,
 * refused with a 400 naming the parameter when they make no sense.
 *
 * Paging is by `page` (an offset: simple, but a deep page costs the rows it skips) or by
 * `after`, the `pagination.next` of the page before (keyset: the store resumes after that
 * page's last record through an index, as fast at any depth, and stable while records are
 * added). A cursor is opaque to clients: base64url JSON of the order it was made in and the
 * store's key of that record; one made for another order is refused.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { FilterError, isEmpty, parseSegment, segmentQuery, type Scope, type Segment } from '../core/filters.ts';
import { PER_PAGE_DEFAULT, PER_PAGE_MAX } from '../../shared/limits.ts';
import { issueDetails } from '../../shared/wire.ts';
import { line } from '../../shared/text.ts';
import {
  ACCOUNT_SORTS,
  BadCursor,
  USER_SORTS,
  type AccountQuery,
  type Cursor,
  type ExternalUserQuery,
  type Page,
  type PageQuery,
  type UserQuery,
} from '../core/store.ts';
import { invalid } from './errors.ts';

const pageQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).optional(),
  per_page: z.coerce.number().int().min(1).max(PER_PAGE_MAX).default(PER_PAGE_DEFAULT),
  after: z.string().max(4096).optional(),
});

const badCursor = (message: string) => invalid('invalid cursor', [{ field: 'after', message }]);

export function encodeCursor(order: string, key: Cursor): string {
  return Buffer.from(JSON.stringify({ o: order, k: key })).toString('base64url');
}

function decodeCursor(raw: string, order: string): Cursor {
  let c: { o?: unknown; k?: unknown };
  try {
    c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw badCursor('must be the pagination.next of an earlier page');
  }
  if (!c || !Array.isArray(c.k) || !c.k.every((v) => typeof v === 'string' || typeof v === 'number'))
    throw badCursor('must be the pagination.next of an earlier page');
  if (c.o !== order) throw badCursor('was made for another sort order; send the same sort as the page it came from');
  return c.k as Cursor;
}

/** `page`/`per_page`/`after` of a listing in `order` (its sort parameter; '' for the default). */
export function paging(query: Record<string, unknown>, order = ''): PageQuery {
  const q = pageQuery.safeParse(present(query));
  if (!q.success) throw invalid('invalid paging parameters', issueDetails(q.error.issues));
  const { page, per_page: perPage, after } = q.data;
  if (after === undefined) return { page: page ?? 1, perPage };
  if (page !== undefined)
    throw invalid('invalid paging parameters', [{ field: 'page', message: 'send page or after, not both' }]);
  return { page: 1, perPage, after: decodeCursor(after, order) };
}

/** The response's `pagination`; `page` is null on a keyset page, whose place is not counted. */
export function pagination(q: PageQuery, page: Page<unknown>, order = '') {
  return {
    page: q.after ? null : q.page,
    per_page: q.perPage,
    total_pages: Math.ceil(page.total / q.perPage),
    total_records: page.total,
    next: page.next ? encodeCursor(order, page.next) : null,
  };
}

/** Runs a store listing; a cursor the store cannot use is the client's error. */
export async function listed<T>(list: Promise<T>): Promise<T> {
  try {
    return await list;
  } catch (err) {
    if (err instanceof BadCursor) throw badCursor(err.message);
    throw err;
  }
}

/** Unix seconds or an ISO-8601 date/time, as milliseconds. */
const instant = z.union(
  [
    z
      .string()
      .regex(/^\d{1,11}$/)
      .transform((s) => Number(s) * 1000),
    z.iso
      .datetime({ offset: true })
      .or(z.iso.date())
      .transform((s) => Date.parse(s)),
  ],
  { error: 'must be Unix seconds or an ISO-8601 date' },
);

const userFilters = z.object({
  q: line(256).optional(),
  account: line(255).optional(),
  updated_after: instant.optional(),
  sort: z.enum(USER_SORTS).optional(),
});

const accountFilters = z.object({ sort: z.enum(ACCOUNT_SORTS).optional() });

const externalUserFilters = z.object({
  user_id: line(255, 1).optional(),
  account: line(255, 1).optional(),
});

/** Filters and order of `GET /users`; empty parameters count as absent (`type`, `tag`: see `segmentOf`). */
export function userListing(query: Record<string, unknown>): Omit<UserQuery, 'page' | 'perPage'> {
  const { type: _t, tag: _g, ...others } = present(query);
  const f = userFilters.safeParse(others);
  if (!f.success) throw invalid('invalid user listing parameters', issueDetails(f.error.issues));
  const { updated_after, ...rest } = f.data;
  return { ...rest, updatedAfter: updated_after };
}

/** Order of `GET /external_accounts`. */
export function accountListing(query: Record<string, unknown>): Omit<AccountQuery, 'page' | 'perPage'> {
  const f = accountFilters.safeParse(present(query));
  if (!f.success) throw invalid('invalid account listing parameters', issueDetails(f.error.issues));
  return f.data;
}

/** Filters of `GET /external_users`. */
export function externalUserListing(query: Record<string, unknown>): Omit<ExternalUserQuery, 'page' | 'perPage'> {
  const f = externalUserFilters.safeParse(present(query));
  if (!f.success) throw invalid('invalid external user listing parameters', issueDetails(f.error.issues));
  return { userId: f.data.user_id, account: f.data.account };
}

function present(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== '' && v !== undefined));
}

/** Parameters every list takes besides its filters: paging, the export format, a saved segment. */
const COMMON = ['page', 'per_page', 'after', 'format', 'segment'];

/** The parameters each list takes besides the filter language (docs/API.md#segments). */
export const LIST_PARAMS = {
  feedback: new Set(COMMON),
  users: new Set([...COMMON, 'q', 'account', 'updated_after', 'sort', 'includes']),
  accounts: new Set([...COMMON, 'sort']),
  ideas: new Set([...COMMON, 'sort']),
  nps: new Set(['segment']),
};

/** Which filter groups each list takes: feedback lists all; people user and account fields; accounts their own. */
export const LIST_SCOPES: Record<keyof typeof LIST_PARAMS, readonly Scope[]> = {
  feedback: ['user', 'account', 'feedback'],
  users: ['user', 'account'],
  accounts: ['account'],
  ideas: ['user', 'account', 'feedback'],
  nps: ['user', 'account', 'feedback'],
};

type Saved = (name: string) => Promise<Record<string, string[]> | undefined>;

/**
 * The segment a list is asked for: its filter parameters, on top of the saved segment named
 * by `segment` (a parameter given in both wins over the saved one). Undefined when nothing
 * filters. A bad filter is a 400 naming the parameter; a saved segment that names a filter this
 * list does not take, or that does not exist, is a 400 naming `segment`.
 */
export async function segmentOf(
  query: Record<string, unknown>,
  list: keyof typeof LIST_PARAMS,
  saved: Saved,
): Promise<Segment | undefined> {
  let base: Record<string, unknown> = {};
  const name = query.segment;
  if (name !== undefined && name !== '') {
    if (typeof name !== 'string')
      throw invalid('invalid segment', [{ field: 'segment', message: 'give one segment name' }]);
    const filters = await saved(name);
    if (!filters) throw invalid('no such segment', [{ field: 'segment', message: `no saved segment named "${name}"` }]);
    base = segmentQuery(filters);
    try {
      parseSegment(base, LIST_SCOPES[list], new Set());
    } catch (err) {
      if (err instanceof FilterError)
        throw invalid('the saved segment does not apply to this list', [
          { field: 'segment', message: `${err.field}: ${err.message}` },
        ]);
      throw err;
    }
  }
  try {
    const s = parseSegment({ ...base, ...query }, LIST_SCOPES[list], LIST_PARAMS[list]);
    return isEmpty(s) ? undefined : s;
  } catch (err) {
    if (err instanceof FilterError) throw invalid('invalid filter', [{ field: err.field, message: err.message }]);
    throw err;
  }
}

/**
 * The order name cursors carry for a list in a segment: a cursor made under one segment is
 * refused under another, as one made for another sort order is.
 */
export function segmentOrder(order: string, segment: Segment | undefined): string {
  if (!segment) return order;
  return `${order}|${createHash('sha256').update(JSON.stringify(segment)).digest('base64url').slice(0, 12)}`;
}
