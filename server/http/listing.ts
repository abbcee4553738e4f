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
import { z } from 'zod';
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
  type: line(128).optional(),
  tag: line(64).optional(),
  updated_after: instant.optional(),
  sort: z.enum(USER_SORTS).optional(),
});

const accountFilters = z.object({ sort: z.enum(ACCOUNT_SORTS).optional() });

const externalUserFilters = z.object({
  user_id: line(255, 1).optional(),
  account: line(255, 1).optional(),
});

/** Filters and order of `GET /users`; empty parameters count as absent. */
export function userListing(query: Record<string, unknown>): Omit<UserQuery, 'page' | 'perPage'> {
  const f = userFilters.safeParse(present(query));
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
