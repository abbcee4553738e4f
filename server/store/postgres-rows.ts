/**
 * How records map onto PostgreSQL rows: the whole record as `doc`, plus the columns the
 * queries filter and sort on. Sort keys are computed here, in JavaScript, with the same rules
 * as the memory store's comparators (user-query.ts), so both engines order identically; text
 * sort keys are compared with COLLATE "C" (code points), as JavaScript compares strings.
 */
import type { Account, ExternalUser, Feedback, Pending, User } from '../core/records.ts';

const num = (v: unknown) => (typeof v === 'number' ? v : 0);
const str = (v: unknown) => (typeof v === 'string' ? v : null);

export const userRow = (u: User) => [u.site, u.id, u.email, u.email.toLowerCase(), (u.name ?? '').toLowerCase(), u.created_at, u.updated_at, JSON.stringify(u)];

export const externalUserRow = (eu: ExternalUser) => [
  eu.site, eu.external_id, eu.user_id, str(eu.profile.f.account), str(eu.profile.f.type),
  `${eu.profile.f.name ?? ''}`.toLowerCase(), eu.updated_at, JSON.stringify(eu),
];

export const accountRow = (a: Account) => {
  const name = a.profile.f.name;
  return [a.site, a.key, typeof name === 'string' ? name.toLowerCase() : '', num(a.profile.f.mrr_cents), num(a.profile.f.ltv_cents), a.created_at, JSON.stringify(a)];
};

export const pendingRow = (p: Pending) => [p.site, p.external_id, str(p.profile.f.email), p.received_at, JSON.stringify(p)];

export const feedbackRow = (f: Feedback) => [f.site, f.message_id, f.id, f.user_id, f.account_key, f.idea_id ?? null, JSON.stringify(f)];

/** `ORDER BY` for a user sort (types.ts USER_SORTS); every order ends with the id. */
export function userOrder(sort: string | undefined): string {
  if (!sort) return 'u.pos';
  const dir = sort.startsWith('-') ? 'DESC' : 'ASC';
  const col = { created_at: 'u.created_at', updated_at: 'u.updated_at', name: 'u.name_key COLLATE "C"', email: 'u.email COLLATE "C"' }[sort.replace('-', '')];
  if (!col) throw new Error(`unknown user sort ${sort}`);
  return `${col} ${dir}, u.id COLLATE "C" ${dir}`;
}

/** `ORDER BY` for an account sort (types.ts ACCOUNT_SORTS); every order ends with the key. */
export function accountOrder(sort: string | undefined): string {
  if (!sort) return 'pos';
  const dir = sort.startsWith('-') ? 'DESC' : 'ASC';
  const col = { created_at: 'created_at', name: 'name_key COLLATE "C"', mrr_cents: 'mrr_cents', ltv_cents: 'ltv_cents' }[sort.replace('-', '')];
  if (!col) throw new Error(`unknown account sort ${sort}`);
  return `${col} ${dir}, key COLLATE "C" ${dir}`;
}
