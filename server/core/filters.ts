/**
 * The segment filter language of the admin lists (docs/API.md#segments): query parameters named
 * after the field they test, parsed into a `Segment`, and the in-memory predicate the memory
 * store filters with. The PostgreSQL store turns the same `Segment` into SQL
 * (engines/postgres/filter-sql.ts); both must agree (the store conformance suite checks it).
 *
 * Parameters: user fields `type`, `tag`, `app_version`, `country`, `cf_<name>`; account fields
 * `account.plan`, `account.cf_<name>`, `account.mrr_cents_gte|lte`, `account.ltv_cents_gte|lte`;
 * feedback fields `kind`, `source`, `created_after`, `created_before`, `score_gte|lte`; and `as`
 * (`now`, the default, or `then`). A repeated parameter means "any of"; different parameters
 * combine with AND. Pure: no I/O, no store.
 */
import { FEEDBACK_KINDS } from '../../shared/limits.ts';
import type { Account, ExternalUser, Feedback } from './records.ts';

/** A filter on one text field: the record passes when the field equals one of `values`. */
export interface TextFilter {
  /** The profile field: `type`, `tags`, `app_version`, `country` (in `location`), `plan` or `cf_<name>`. */
  field: string;
  values: string[];
}

/** An inclusive range; either end may be open. */
export interface Range {
  gte?: number;
  lte?: number;
}

export interface Segment {
  /** Tested on the external user (for feedback: the one who gave it; for users: any of theirs). */
  user: TextFilter[];
  /** Tested on that external user's account (for feedback: the account it was given for). */
  account: TextFilter[];
  mrr?: Range;
  ltv?: Range;
  kind?: string[];
  source?: string[];
  /** Milliseconds, exclusive at both ends (`created_after`, `created_before`). */
  createdAfter?: number;
  createdBefore?: number;
  score?: Range;
  /**
   * For feedback: the account's MRR and plan as recorded with the feedback (`then`) or as they
   * are now (`now`). Feedback recorded before plans were kept is read by the plan now; every
   * other field is read as it is now.
   */
  as: 'now' | 'then';
}

/** Which groups of parameters a list takes; others are refused naming the parameter. */
export type Scope = 'user' | 'account' | 'feedback';

/** A parameter that is not a filter, or a value that cannot be one; the route answers 400 naming it. */
export class FilterError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const CF = /^cf_[a-z0-9_]{1,64}$/;
const USER_TEXT: Record<string, string> = { type: 'type', tag: 'tags', app_version: 'app_version', country: 'country' };
const VALUES_MAX = 100;
const VALUE_MAX_CHARS = 255;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Every parameter name the language knows, for the console and the docs. */
export const FILTER_PARAMS = [
  'type',
  'tag',
  'app_version',
  'country',
  'cf_<name>',
  'account.plan',
  'account.cf_<name>',
  'account.mrr_cents_gte',
  'account.mrr_cents_lte',
  'account.ltv_cents_gte',
  'account.ltv_cents_lte',
  'kind',
  'source',
  'created_after',
  'created_before',
  'score_gte',
  'score_lte',
  'as',
] as const;

export function emptySegment(): Segment {
  return { user: [], account: [], as: 'now' };
}

export function isEmpty(s: Segment): boolean {
  return (
    s.user.length === 0 &&
    s.account.length === 0 &&
    !s.mrr &&
    !s.ltv &&
    !s.kind &&
    !s.source &&
    s.createdAfter === undefined &&
    s.createdBefore === undefined &&
    !s.score
  );
}

/** Whether `name` is a parameter of the filter language (known or malformed). */
export function isFilterParam(name: string): boolean {
  return (
    name in USER_TEXT ||
    name.startsWith('cf_') ||
    name.startsWith('account.') ||
    ['kind', 'source', 'created_after', 'created_before', 'score_gte', 'score_lte', 'as'].includes(name)
  );
}

function texts(name: string, raw: unknown): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length > VALUES_MAX) throw new FilterError(name, `at most ${VALUES_MAX} values`);
  return list.map((v) => {
    if (typeof v !== 'string' || v === '') throw new FilterError(name, 'expected a non-empty text value');
    if (v.length > VALUE_MAX_CHARS) throw new FilterError(name, `at most ${VALUE_MAX_CHARS} characters`);
    if (CONTROL.test(v)) throw new FilterError(name, 'must not contain control characters');
    return v;
  });
}

function one(name: string, raw: unknown): string {
  if (Array.isArray(raw)) throw new FilterError(name, 'give this parameter once');
  if (typeof raw !== 'string' || raw === '') throw new FilterError(name, 'expected a value');
  return raw;
}

function integer(name: string, raw: unknown, min: number, max: number): number {
  const s = one(name, raw);
  if (!/^-?\d{1,16}$/.test(s)) throw new FilterError(name, 'expected an integer');
  const n = Number(s);
  if (n < min || n > max) throw new FilterError(name, `expected an integer from ${min} to ${max}`);
  return n;
}

/** Unix seconds or an ISO-8601 date/time, as milliseconds. */
function instant(name: string, raw: unknown): number {
  const s = one(name, raw);
  if (/^\d{1,11}$/.test(s)) return Number(s) * 1000;
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
  const ms = iso.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(ms)) throw new FilterError(name, 'must be Unix seconds or an ISO-8601 date');
  return ms;
}

const MONEY_MAX = 1e15;

function setEnd(range: Range | undefined, end: 'gte' | 'lte', n: number): Range {
  return { ...range, [end]: n };
}

/**
 * The segment in `query` (parameter → value or values, as Express parses a query string).
 * Parameters in `others` belong to the list (paging, sort...) and are skipped; any other
 * parameter that is not a filter of `scopes` is a FilterError naming it.
 */
export function parseSegment(
  query: Record<string, unknown>,
  scopes: readonly Scope[],
  others: ReadonlySet<string>,
): Segment {
  const s = emptySegment();
  const allow = (name: string, scope: Scope) => {
    if (!scopes.includes(scope))
      throw new FilterError(name, `not a filter of this list (it takes ${scopes.join(', ')} fields)`);
  };
  for (const [name, raw] of Object.entries(query)) {
    if (others.has(name)) continue;
    if (raw === undefined || raw === '') continue;
    if (name === 'as') {
      const v = one(name, raw);
      if (v !== 'now' && v !== 'then') throw new FilterError(name, 'expected "now" or "then"');
      s.as = v;
    } else if (name in USER_TEXT || CF.test(name)) {
      allow(name, 'user');
      s.user.push({ field: USER_TEXT[name] ?? name, values: texts(name, raw) });
    } else if (name.startsWith('account.')) {
      allow(name, 'account');
      const field = name.slice('account.'.length);
      if (field === 'plan' || CF.test(field)) s.account.push({ field, values: texts(name, raw) });
      else if (/^(mrr|ltv)_cents_(gte|lte)$/.test(field)) {
        const n = integer(name, raw, 0, MONEY_MAX);
        const end = field.endsWith('gte') ? 'gte' : 'lte';
        if (field.startsWith('mrr')) s.mrr = setEnd(s.mrr, end, n);
        else s.ltv = setEnd(s.ltv, end, n);
      } else throw new FilterError(name, 'unknown account filter');
    } else if (name === 'kind') {
      allow(name, 'feedback');
      const kinds = texts(name, raw);
      const bad = kinds.find((k) => !(FEEDBACK_KINDS as readonly string[]).includes(k));
      if (bad !== undefined) throw new FilterError(name, `expected one of ${FEEDBACK_KINDS.join(', ')}`);
      s.kind = kinds;
    } else if (name === 'source') {
      allow(name, 'feedback');
      s.source = texts(name, raw);
    } else if (name === 'created_after' || name === 'created_before') {
      allow(name, 'feedback');
      if (name === 'created_after') s.createdAfter = instant(name, raw);
      else s.createdBefore = instant(name, raw);
    } else if (name === 'score_gte' || name === 'score_lte') {
      allow(name, 'feedback');
      s.score = setEnd(s.score, name === 'score_gte' ? 'gte' : 'lte', integer(name, raw, 0, 10));
    } else if (name.startsWith('cf_')) {
      throw new FilterError(name, 'custom field keys must match ^cf_[a-z0-9_]{1,64}$');
    } else {
      throw new FilterError(name, 'unknown parameter');
    }
  }
  return s;
}

/** A saved segment's filters (parameter → values) as the query parameters they stand for. */
export function segmentQuery(filters: Record<string, string[]>): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, v.length === 1 ? v[0] : v]));
}

// ---- the predicate ---------------------------------------------------------------------------

/**
 * Whether a profile field holds one of `values`: tags element-wise (and only as a list), every
 * other field as one scalar compared by its text. Allocates nothing: it runs per record.
 */
function fieldMatches(f: Record<string, unknown>, field: string, values: string[]): boolean {
  const v = field === 'country' ? (f.location as Record<string, unknown> | undefined)?.country : f[field];
  if (field === 'tags') return Array.isArray(v) && v.some((x) => typeof x === 'string' && values.includes(x));
  if (typeof v === 'string') return values.includes(v);
  if (typeof v === 'number' || typeof v === 'boolean') return values.includes(String(v));
  return false;
}

function passesText(f: Record<string, unknown>, filters: TextFilter[]): boolean {
  for (const t of filters) if (!fieldMatches(f, t.field, t.values)) return false;
  return true;
}

function inRange(n: number | null | undefined, r: Range | undefined): boolean {
  if (!r) return true;
  if (typeof n !== 'number') return false;
  return (r.gte === undefined || n >= r.gte) && (r.lte === undefined || n <= r.lte);
}

const num = (v: unknown) => (typeof v === 'number' ? v : null);

/** Whether an external user passes the user filters. */
export function matchesExternalUser(s: Segment, eu: ExternalUser | undefined): boolean {
  if (s.user.length === 0) return true;
  return eu !== undefined && passesText(eu.profile.f, s.user);
}

/** What feedback recorded about its account when it was given, for segments read "as then". */
export interface AccountThen {
  mrr: number | null;
  /** Undefined: not recorded (older feedback), so the plan now is read. */
  plan: string | null | undefined;
}

/** Whether an account passes the account filters (MRR and plan as `then` says, when given). */
export function matchesAccount(s: Segment, a: Account | undefined, then?: AccountThen): boolean {
  if (s.account.length === 0 && !s.mrr && !s.ltv) return true;
  const mrr = then !== undefined ? then.mrr : num(a?.profile.f.mrr_cents);
  if (!inRange(mrr, s.mrr)) return false;
  let text = s.account;
  if (then !== undefined && then.plan !== undefined) {
    const plan = s.account.find((t) => t.field === 'plan');
    if (plan && (then.plan === null || !plan.values.includes(then.plan))) return false;
    text = s.account.filter((t) => t.field !== 'plan');
  }
  if (text.length === 0 && !s.ltv) return true;
  return a !== undefined && passesText(a.profile.f, text) && inRange(num(a.profile.f.ltv_cents), s.ltv);
}

/** Whether feedback passes its own fields' filters. */
export function matchesFeedbackFields(s: Segment, f: Feedback): boolean {
  if (s.kind && !s.kind.includes(f.kind)) return false;
  if (s.source && (f.source === undefined || !s.source.includes(f.source))) return false;
  if (s.createdAfter !== undefined && !(f.created_at > s.createdAfter)) return false;
  if (s.createdBefore !== undefined && !(f.created_at < s.createdBefore)) return false;
  return inRange(f.score, s.score);
}

/**
 * Whether feedback is in the segment, with the external user who gave it and the account it was
 * given for, as they are now.
 */
export function matchesFeedback(
  s: Segment,
  f: Feedback,
  eu: ExternalUser | undefined,
  account: Account | undefined,
): boolean {
  return (
    matchesFeedbackFields(s, f) &&
    matchesExternalUser(s, eu) &&
    matchesAccount(s, account, s.as === 'then' ? { mrr: f.mrr_cents_at, plan: f.plan_at } : undefined)
  );
}

/** Whether a user is in the segment: one of their external users passes the user and account filters. */
export function matchesPerson(
  s: Segment,
  eus: ExternalUser[],
  accountOf: (eu: ExternalUser) => Account | undefined,
): boolean {
  if (s.user.length === 0 && s.account.length === 0 && !s.mrr && !s.ltv) return true;
  return eus.some((eu) => matchesExternalUser(s, eu) && matchesAccount(s, accountOf(eu)));
}
