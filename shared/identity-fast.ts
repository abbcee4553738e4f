/**
 * The fast path of identity validation. `identitySchema` (identity.ts) is the definition, but
 * zod spends ~50 µs on one identity here — fourteen times what JSON.parse spends on it — which
 * made validation most of the collector's cost per request (test/bench, issue 7). This checks
 * the common shape by hand and returns exactly what the schema would, or `undefined` for
 * anything it is not sure of (an invalid value, an ISO date, an emoji, a numeric money string):
 * those go through the schema, which also writes the error messages. So the schema stays the
 * one definition; a property test (test/server/identity-fast.test.ts) holds the two equal.
 */
import { regexes, type z } from 'zod';
import { identitySchema, type Identity, type Traits } from './identity.ts';
import {
  ACCOUNTS_PER_IDENTITY_MAX,
  APP_VERSION_MAX_CHARS,
  CUSTOM_FIELD_KEY,
  CUSTOM_FIELD_VALUE_MAX_CHARS,
  CUSTOM_FIELDS_MAX,
  EMAIL_MAX_CHARS,
  ID_MAX_CHARS,
  LOCALE_MAX_CHARS,
  MONEY_MAX_CENTS,
  NAME_MAX_CHARS,
  TEXT_MAX_CHARS,
  TIMEZONE_MAX_CHARS,
  TYPE_MAX_CHARS,
} from './limits.ts';
import { PRIVATE_ACCOUNT_PREFIX } from './text.ts';
import { isWholeCents, toCents } from './money.ts';

/** Control characters or any surrogate: the first are invalid, the second need the full check. */
const UNSURE = /[\u0000-\u001f\u007f\ud800-\udfff]/;
const COUNTRY = /^[A-Za-z]{2}$/;
const HEX = /^[0-9a-fA-F]{1,128}$/;
const MAX_UNIX_SECONDS = 32503680000;

/** Thrown inside the fast path to hand the item to the schema. */
const BAIL = Symbol('bail');
type Obj = Record<string, unknown>;

function bail(): never {
  throw BAIL;
}

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const absent = (v: unknown) => v === undefined || v === null;

/** `line(max, min)`: a single line of min..max UTF-16 units, no controls, no lone surrogates. */
function line(v: unknown, max: number, min = 0): string | undefined {
  if (absent(v)) return undefined;
  if (typeof v !== 'string' || v.length > max || v.length < min || UNSURE.test(v)) bail();
  return v;
}

/** `externalId`: a non-blank line, or a non-negative safe integer as a string. */
function externalId(v: unknown): string | undefined {
  if (absent(v)) return undefined;
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? String(v) : bail();
  const s = line(v, ID_MAX_CHARS, 1)!;
  return s.trim().length > 0 ? s : bail();
}

/** `accountId`: an `externalId` outside the private accounts' key space. */
function accountId(v: unknown): string | undefined {
  const id = externalId(v);
  return id?.startsWith(PRIVATE_ACCOUNT_PREFIX) ? bail() : id;
}

/** `timestamp`, numbers only (ISO strings take the schema path). */
function seconds(v: unknown): number | undefined {
  if (absent(v)) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_UNIX_SECONDS) bail();
  return Math.floor(v);
}

/** `moneyDecimal`, numbers only; a sub-cent amount takes the schema path, which words the refusal. */
function decimalCents(v: unknown): number | undefined {
  if (absent(v)) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || !isWholeCents(v)) bail();
  const cents = toCents(v);
  return cents <= MONEY_MAX_CENTS ? cents : bail();
}

/** `moneyCents`. */
function cents(v: unknown): number | undefined {
  if (absent(v)) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MONEY_MAX_CENTS) bail();
  return v;
}

/** `gatherTraits` on a valid object: the `cf_*` keys in their order. */
function traits(raw: Obj): Traits {
  const out: Traits = {};
  let count = 0;
  for (const key in raw) {
    if (key.charCodeAt(0) !== 99 || !key.startsWith('cf_')) continue;
    if (!CUSTOM_FIELD_KEY.test(key)) bail();
    const v = raw[key];
    if (absent(v)) continue;
    if (typeof v === 'string') line(v, CUSTOM_FIELD_VALUE_MAX_CHARS);
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) bail();
    } else if (typeof v !== 'boolean') bail();
    if (++count > CUSTOM_FIELDS_MAX) bail();
    out[key] = v as string | number | boolean;
  }
  return out;
}

/**
 * Drops undefined values, as identity.ts's `compact` does, but into a new object: `delete`
 * would turn the result into a slow dictionary-mode object for everything that reads it later.
 */
function compact<T extends Obj>(o: T): T {
  const out: Obj = {};
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out as T;
}

function account(v: unknown): Identity['account'] {
  if (absent(v)) return undefined;
  if (!isObject(v)) bail();
  const mrr = cents(v.mrr_cents);
  const ltv = cents(v.ltv_cents);
  const monthly = decimalCents(v.monthly_rate);
  const lifetime = decimalCents(v.ltv);
  return compact({
    id: accountId(v.id),
    name: line(v.name, NAME_MAX_CHARS),
    plan: line(v.plan, TEXT_MAX_CHARS),
    created_at: seconds(v.created_at),
    mrr_cents: mrr ?? monthly,
    ltv_cents: ltv ?? lifetime,
    traits: traits(v),
  });
}

/** `accountsSchema`: a short list of accounts that each name an id; empty reads as absent. */
function accounts(v: unknown): Identity['accounts'] {
  if (absent(v)) return undefined;
  if (!Array.isArray(v) || v.length > ACCOUNTS_PER_IDENTITY_MAX) bail();
  const out: NonNullable<Identity['accounts']> = [];
  for (const item of v) {
    const a = account(item);
    if (a?.id === undefined) bail();
    out.push(a);
  }
  return out.length > 0 ? out : undefined;
}

function location(v: unknown): Identity['location'] {
  if (absent(v)) return undefined;
  if (!isObject(v)) bail();
  let country: string | undefined;
  if (!absent(v.country)) {
    if (typeof v.country !== 'string' || !COUNTRY.test(v.country)) bail();
    country = v.country.toUpperCase();
  }
  return compact({ country, region: line(v.region, TEXT_MAX_CHARS), city: line(v.city, TEXT_MAX_CHARS) });
}

/** The schema's result for a common, valid identity; `undefined` means "ask the schema". */
export function fastIdentity(raw: unknown): Identity | undefined {
  if (!isObject(raw)) return undefined;
  try {
    const e = raw.email;
    if (typeof e !== 'string' || e.length > EMAIL_MAX_CHARS) return undefined;
    const email = e.trim().toLowerCase();
    if (!regexes.email.test(email)) return undefined;
    let userHash: string | undefined;
    if (!absent(raw.user_hash)) {
      if (typeof raw.user_hash !== 'string' || !HEX.test(raw.user_hash)) return undefined;
      userHash = raw.user_hash;
    }
    // Same order of keys as the schema's transform, so the two results serialize alike.
    const id = externalId(raw.id);
    const name = line(raw.name, NAME_MAX_CHARS);
    const type = line(raw.type, TYPE_MAX_CHARS);
    const created_at = seconds(raw.created_at);
    const acct = account(raw.account);
    const accts = accounts(raw.accounts);
    const app_version = line(raw.app_version, APP_VERSION_MAX_CHARS);
    const loc = location(raw.location);
    const timezone = line(raw.timezone, TIMEZONE_MAX_CHARS);
    const locale = line(raw.locale, LOCALE_MAX_CHARS);
    const identity_token = line(raw.identity_token, 4096);
    return compact({
      id: id ?? email,
      email,
      name,
      type,
      created_at,
      traits: traits(raw),
      account: acct,
      accounts: accts,
      app_version,
      location: loc,
      timezone,
      locale,
      identity_token,
      user_hash: userHash,
    }) as Identity;
  } catch (err) {
    if (err === BAIL) return undefined;
    throw err;
  }
}

export type IdentityResult =
  { success: true; data: Identity; error?: undefined } | { success: false; data?: undefined; error: z.ZodError };

/** `identitySchema.safeParse`, taking the fast path when it can. */
export function safeParseIdentity(raw: unknown): IdentityResult {
  const fast = fastIdentity(raw);
  if (fast) return { success: true, data: fast };
  return identitySchema.safeParse(raw) as IdentityResult;
}
