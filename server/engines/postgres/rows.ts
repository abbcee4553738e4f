/**
 * How records map onto PostgreSQL rows: the whole record as `doc`, plus the columns the
 * queries filter and sort on. Sort keys are computed here, in JavaScript, with the same rules
 * as the memory store's comparators (engines/embedded/user-query.ts), so both engines order
 * identically; text sort keys are compared with COLLATE "C" (code points), as JavaScript
 * compares strings.
 */
import type { Account, ExternalUser, Feedback, Pending, User } from '../../core/records.ts';
import type { CursorType } from '../../core/store.ts';

const num = (v: unknown) => (typeof v === 'number' ? v : 0);
const str = (v: unknown) => (typeof v === 'string' ? v : null);

export const userRow = (u: User) => [
  u.site,
  u.id,
  u.email,
  u.email.toLowerCase(),
  (u.name ?? '').toLowerCase(),
  u.created_at,
  u.updated_at,
  JSON.stringify(u),
];

export const externalUserRow = (eu: ExternalUser) => [
  eu.site,
  eu.external_id,
  eu.user_id,
  str(eu.profile.f.account),
  str(eu.profile.f.type),
  `${eu.profile.f.name ?? ''}`.toLowerCase(),
  eu.updated_at,
  JSON.stringify(eu),
];

export const accountRow = (a: Account) => {
  const name = a.profile.f.name;
  return [
    a.site,
    a.key,
    typeof name === 'string' ? name.toLowerCase() : '',
    num(a.profile.f.mrr_cents),
    num(a.profile.f.ltv_cents),
    a.created_at,
    JSON.stringify(a),
  ];
};

export const pendingRow = (p: Pending) => [
  p.site,
  p.external_id,
  str(p.profile.f.email),
  p.received_at,
  JSON.stringify(p),
];

export const feedbackRow = (f: Feedback) => [
  f.site,
  f.message_id,
  f.id,
  f.user_id,
  f.account_key,
  f.idea_id ?? null,
  JSON.stringify(f),
];

/**
 * An order in SQL, with what keyset paging needs: the columns whose values make a row's cursor
 * (the same values the memory store's orders key on, see engines/embedded/user-query.ts) and
 * the condition "comes after this cursor", which a row comparison turns into a range scan of
 * the order's index. Creation orders key on `pos` alone, which is unique.
 */
export interface SqlOrder {
  orderBy: string;
  cursor: string[];
  types: CursorType[];
  /** The condition for rows after the cursor whose values are bound as `params`. */
  after(params: string[]): string;
}

function sqlOrder(pos: string, id: string, col: string | undefined, type: CursorType, desc: boolean): SqlOrder {
  const dir = desc ? 'DESC' : 'ASC';
  const op = desc ? '<' : '>';
  if (!col) return { orderBy: `${pos} ${dir}`, cursor: [pos], types: ['integer'], after: ([x]) => `${pos} ${op} ${x}` };
  return {
    orderBy: `${col} ${dir}, ${id} ${dir}`,
    cursor: [col, id],
    types: [type, 'string'],
    after: ([a, b]) => `(${col}, ${id}) ${op} (${a}, ${b})`,
  };
}

/** A user sort (core/store.ts USER_SORTS); every order ends with the id. Text columns are COLLATE "C". */
export function userOrder(sort: string | undefined): SqlOrder {
  if (!sort) return sqlOrder('u.pos', 'u.id', undefined, 'integer', false);
  const name = sort.replace('-', '');
  const col = { created_at: 'u.created_at', updated_at: 'u.updated_at', name: 'u.name_key', email: 'u.email' }[name];
  if (!col) throw new Error(`unknown user sort ${sort}`);
  return sqlOrder(
    'u.pos',
    'u.id',
    col,
    name === 'name' || name === 'email' ? 'string' : 'number',
    sort.startsWith('-'),
  );
}

/** An account sort (core/store.ts ACCOUNT_SORTS); every order ends with the key. */
export function accountOrder(sort: string | undefined): SqlOrder {
  if (!sort) return sqlOrder('pos', 'key', undefined, 'integer', false);
  const name = sort.replace('-', '');
  const col = { created_at: 'created_at', name: 'name_key', mrr_cents: 'mrr_cents', ltv_cents: 'ltv_cents' }[name];
  if (!col) throw new Error(`unknown account sort ${sort}`);
  return sqlOrder('pos', 'key', col, name === 'name' ? 'string' : 'number', sort.startsWith('-'));
}

/** Feedback, newest first. */
export const feedbackOrder = sqlOrder('pos', 'message_id', undefined, 'integer', true);

/** External users in creation order. */
export const externalUserOrder = sqlOrder('pos', 'external_id', undefined, 'integer', false);

/**
 * One user's feedback, newest first by its time (kept only in `doc`: an expression index,
 * sql/007, serves the order), then by message id, as the memory store orders it.
 */
export const userFeedbackOrder = sqlOrder(
  'pos',
  'message_id',
  "((doc->>'created_at')::double precision)",
  'number',
  true,
);
