/**
 * Maps what Segment's analytics.js and Intercom know about the signed-in person onto Parley's
 * identity object (docs/API.md#the-identity-object), as docs/API.md#already-using-segment-or-intercom
 * describes: reserved traits in camelCase and snake_case, the first company as the account (the
 * others as `accounts`),
 * revenue from the trait the embed names, every other scalar trait as a `cf_*` field. Pure: it
 * takes plain data (plain.ts) and only ever produces values the collector accepts, leaving out a
 * field that would not pass rather than sending an identity it would reject. Without a usable
 * email there is nobody to identify (null).
 */
import {
  ACCOUNTS_PER_IDENTITY_MAX,
  CUSTOM_FIELD_KEY,
  CUSTOM_FIELD_VALUE_MAX_CHARS,
  CUSTOM_FIELDS_MAX,
  EMAIL_MAX_CHARS,
  ID_MAX_CHARS,
  MONEY_MAX_CENTS,
  NAME_MAX_CHARS,
  TEXT_MAX_CHARS,
} from '../../shared/limits.ts';
import { DEFAULT_REVENUE_TRAITS, type RevenueTrait } from '../../shared/revenue-traits.ts';
import { object, type Data } from './plain.ts';

export type { RevenueTrait };

/** The collector's /v1 routes read the same defaults (one list for both sides). */
export const DEFAULT_REVENUE: readonly RevenueTrait[] = DEFAULT_REVENUE_TRAITS;

/** `"name:dollars"`, `"name:cents"` or `"name"` (dollars); anything else keeps the defaults. */
export function parseRevenue(setting: unknown): readonly RevenueTrait[] {
  if (typeof setting !== 'string') return DEFAULT_REVENUE;
  const m = /^\s*([\w.$-]{1,64})(?::(dollars|cents))?\s*$/.exec(setting);
  return m ? [{ name: m[1], unit: m[2] === 'cents' ? 'cents' : 'dollars' }] : DEFAULT_REVENUE;
}

// Control characters, line breaks and lone surrogates: the collector refuses them in one-line text.
const BAD_TEXT = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** One line of text the collector accepts, at most `max` characters and not blank. */
function line(v: unknown, max: number): string | undefined {
  return typeof v === 'string' && v.trim() && v.length <= max && !BAD_TEXT.test(v) ? v : undefined;
}

/** An id: a line of text, or a non-negative safe integer (sent as text). */
function id(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  return line(v, ID_MAX_CHARS);
}

/**
 * Unix seconds from seconds, milliseconds (Segment pages often send `Date.now()`), or a date
 * string `Date` understands.
 */
function time(v: unknown): number | undefined {
  let s = typeof v === 'number' ? v : typeof v === 'string' && v.trim() ? Date.parse(v) / 1000 : NaN;
  if (s > 32503680000) s /= 1000; // past the year 3000: milliseconds
  return Number.isFinite(s) && s >= 0 ? Math.floor(s) : undefined;
}

/** Whole cents from an amount (number or numeric text) in dollars or cents; rounded: another tool's data. */
function cents(v: unknown, inCents: boolean): number | undefined {
  const n = typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return undefined;
  const c = Math.round(inCents ? n : n * 100);
  return c <= MONEY_MAX_CENTS ? c : undefined;
}

/** `cf_` + the trait's name in snake_case (`seatCount` → `cf_seat_count`), if that is a valid field key. */
function fieldKey(name: string): string | undefined {
  const snake = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_');
  const key = snake.startsWith('cf_') ? snake : `cf_${snake}`;
  return CUSTOM_FIELD_KEY.test(key) ? key : undefined;
}

/** Copies every scalar trait not in `skip` onto `out` as a `cf_*` field, up to the collector's limit. */
function customFields(out: Data, traits: Data, skip: Set<string>): void {
  let count = 0;
  for (const [name, v] of Object.entries(traits)) {
    if (skip.has(name) || count >= CUSTOM_FIELDS_MAX) continue;
    const key = fieldKey(name);
    const value =
      typeof v === 'boolean' || typeof v === 'number' ? v : (line(v, CUSTOM_FIELD_VALUE_MAX_CHARS) ?? undefined);
    if (key && value !== undefined && !(key in out)) {
      out[key] = value;
      count++;
    }
  }
}

/** Sets `out[key]` only to a defined value, so absent fields stay absent ("not sent"). */
function put(out: Data, key: string, value: unknown): void {
  if (value !== undefined) out[key] = value;
}

const first = (...vs: unknown[]) => vs.find((v) => v !== undefined && v !== null);

const ACCOUNT_RESERVED = [
  'id',
  'company_id',
  'companyId',
  'name',
  'plan',
  'created_at',
  'createdAt',
  'remote_created_at',
];

/** The revenue of `traits` in cents under the first configured trait it has. */
function revenueOf(traits: Data, revenue: readonly RevenueTrait[]): number | undefined {
  for (const { name, unit } of revenue) {
    const c = traits[name] === undefined ? undefined : cents(traits[name], unit === 'cents');
    if (c !== undefined) return c;
  }
  return undefined;
}

/** An account from a group's or company's traits; undefined without a usable id. */
function account(accountId: unknown, traits: Data, revenue: readonly RevenueTrait[]): Data | undefined {
  const key = id(accountId);
  if (!key || key.startsWith('~')) return undefined; // `~` is reserved for accounts without an id
  const out: Data = { id: key };
  put(out, 'name', line(traits.name, NAME_MAX_CHARS));
  put(out, 'plan', line(traits.plan, TEXT_MAX_CHARS));
  put(out, 'created_at', time(first(traits.created_at, traits.createdAt, traits.remote_created_at)));
  put(out, 'mrr_cents', revenueOf(traits, revenue));
  customFields(out, traits, new Set([...ACCOUNT_RESERVED, ...revenue.map((r) => r.name)]));
  return out;
}

/** The company a person's traits name: the first of `companies`, else `company` when it is an object. */
function company(traits: Data): Data | undefined {
  const list = traits.companies;
  const c = Array.isArray(list) ? list[0] : traits.company;
  return typeof c === 'object' && c !== null && !Array.isArray(c) ? (c as Data) : undefined;
}

/**
 * The person's other companies as `accounts` (docs/API.md#several-accounts): every entry of
 * `companies` with a usable id except the acting account, at most as many as the collector takes.
 */
function otherCompanies(
  traits: Data,
  acting: Data | undefined,
  idOf: (c: Data) => unknown,
  revenue: readonly RevenueTrait[],
): Data[] | undefined {
  const list = Array.isArray(traits.companies) ? traits.companies : [];
  const out: Data[] = [];
  for (const c of list) {
    const a = account(idOf(object(c)), object(c), revenue);
    if (a && a.id !== acting?.id && !out.some((o) => o.id === a.id)) out.push(a);
  }
  return out.length ? out.slice(0, ACCOUNTS_PER_IDENTITY_MAX) : undefined;
}

const PERSON_RESERVED = [
  'id',
  'email',
  'name',
  'firstName',
  'lastName',
  'first_name',
  'last_name',
  'createdAt',
  'created_at',
  'company',
  'companies',
  'plan',
];

/**
 * The person: email, name (or first and last name), created_at, plan (onto the account), the
 * account, the other traits as `cf_*`. `skip` adds the source's own keys that are not traits.
 */
function person(
  userId: unknown,
  traits: Data,
  acct: Data | undefined,
  revenue: readonly RevenueTrait[],
  skip: string[],
) {
  const email = line(traits.email, EMAIL_MAX_CHARS);
  if (!email?.includes('@')) return null;
  const out: Data = { email };
  put(out, 'id', id(userId));
  const full = [traits.firstName ?? traits.first_name, traits.lastName ?? traits.last_name]
    .filter((p) => typeof p === 'string' && p.trim())
    .join(' ');
  put(out, 'name', line(traits.name, NAME_MAX_CHARS) ?? line(full, NAME_MAX_CHARS));
  put(out, 'created_at', time(first(traits.created_at, traits.createdAt, traits.signed_up_at)));
  if (acct) {
    // A plan or revenue said of the person describes the account they pay through.
    if (acct.plan === undefined) put(acct, 'plan', line(traits.plan, TEXT_MAX_CHARS));
    if (acct.mrr_cents === undefined) put(acct, 'mrr_cents', revenueOf(traits, revenue));
    out.account = acct;
  }
  customFields(out, traits, new Set([...PERSON_RESERVED, ...skip, ...revenue.map((r) => r.name)]));
  return out;
}

/** What analytics.js knows: the user's id and traits, the group's id and traits. */
export interface SegmentState {
  userId?: unknown;
  traits?: unknown;
  groupId?: unknown;
  groupTraits?: unknown;
}

/** A Parley identity from Segment's user and group (the group is the account; else the first company; other companies as accounts). */
export function fromSegment(state: SegmentState, revenue: readonly RevenueTrait[] = DEFAULT_REVENUE): Data | null {
  const traits = object(state.traits);
  const group = object(state.groupTraits);
  const c = company(traits);
  const idOf = (c: Data) => first(c.id, c.company_id, c.companyId);
  const acct =
    state.groupId !== undefined && state.groupId !== null
      ? account(state.groupId, group, revenue)
      : c && account(idOf(c), c, revenue);
  const out = person(state.userId, traits, acct, revenue, ['userId', 'user_id', 'anonymousId']);
  if (out) put(out, 'accounts', otherCompanies(traits, acct, idOf, revenue));
  return out;
}

/**
 * Intercom Messenger settings that configure the messenger, not the person: never custom fields.
 * https://developers.intercom.com/installing-intercom/web/attributes-objects
 */
const INTERCOM_SETTINGS = [
  'app_id',
  'api_base',
  'user_id',
  'user_hash',
  'intercom_user_jwt',
  'alignment',
  'horizontal_padding',
  'vertical_padding',
  'hide_default_launcher',
  'session_duration',
  'action_color',
  'background_color',
  'custom_launcher_selector',
  'language_override',
  'z_index',
  'installation_type',
  'last_request_at',
  'signed_up_at',
  'avatar',
  'unsubscribed_from_emails',
  'utm_campaign',
  'utm_content',
  'utm_medium',
  'utm_source',
  'utm_term',
];

const HEX = /^[0-9a-fA-F]{1,128}$/;

/**
 * A Parley identity from Intercom's settings. Its `user_hash` (HMAC-SHA256 of the user id) is
 * Parley's `user_hash` too, so it passes through untouched (docs/API.md#proofs).
 */
export function fromIntercom(settings: unknown, revenue: readonly RevenueTrait[] = DEFAULT_REVENUE): Data | null {
  const s = object(settings);
  const c = company(s);
  const idOf = (c: Data) => first(c.company_id, c.id);
  const acct = c && account(idOf(c), c, revenue);
  const out = person(s.user_id, s, acct, revenue, INTERCOM_SETTINGS);
  if (out) put(out, 'accounts', otherCompanies(s, acct, idOf, revenue));
  if (out && typeof s.user_hash === 'string' && HEX.test(s.user_hash) && out.id !== undefined)
    out.user_hash = s.user_hash;
  return out;
}
