/**
 * Query parameters of the user and account listings (CONTRACT §4): filters and sort orders,
 * parsed once, refused with a 400 naming the parameter when they make no sense.
 */
import { z } from 'zod';
import { issueDetails } from '../../shared/wire.ts';
import { line } from '../../shared/text.ts';
import { ACCOUNT_SORTS, USER_SORTS, type AccountQuery, type UserQuery } from '../store/types.ts';
import { invalid } from './errors.ts';

/** Unix seconds or an ISO-8601 date/time, as milliseconds. */
const instant = z.union([
  z.string().regex(/^\d{1,11}$/).transform((s) => Number(s) * 1000),
  z.iso.datetime({ offset: true }).or(z.iso.date()).transform((s) => Date.parse(s)),
], { error: 'must be Unix seconds or an ISO-8601 date' });

const userFilters = z.object({
  q: line(256).optional(),
  account: line(255).optional(),
  type: line(128).optional(),
  tag: line(64).optional(),
  updated_after: instant.optional(),
  sort: z.enum(USER_SORTS).optional(),
});

const accountFilters = z.object({ sort: z.enum(ACCOUNT_SORTS).optional() });

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

function present(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== '' && v !== undefined));
}
