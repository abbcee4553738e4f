/**
 * Client-side shaping of an identity (docs/API.md#the-identity-object) before it is queued:
 * copies only the fields the collector knows, turns a numeric id into a string, lower-cases the
 * email and adds the browser's time zone and locale. It checks just enough to tell a user apart
 * (an email); the collector does the full validation and names the field it rejects.
 */
import { CUSTOM_FIELD_KEY, ID_MAX_CHARS, LOCALE_MAX_CHARS, TIMEZONE_MAX_CHARS } from '../shared/limits.ts';
import { isObject } from './json.ts';

export type Scalar = string | number | boolean;
export type Identity = { id: string; email: string } & Record<string, unknown>;

const TOP = ['name', 'type', 'created_at', 'app_version', 'identity_token', 'user_hash'];
const ACCOUNT = ['id', 'name', 'plan', 'created_at', 'monthly_rate', 'ltv', 'mrr_cents', 'ltv_cents'];
const LOCATION = ['country', 'region', 'city'];

const isScalar = (v: unknown): v is Scalar =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/**
 * Copies the named scalar fields and every `cf_*` trait of `src`, in sorted key order so that
 * the same content always serializes the same (the fingerprint relies on it); undefined when
 * nothing is left.
 */
function pick(src: unknown, keys: string[], traits: boolean): Record<string, Scalar> | undefined {
  if (!isObject(src)) return undefined;
  const out: Record<string, Scalar> = {};
  for (const k of Object.keys(src).sort()) {
    const v = src[k];
    if (isScalar(v) && (keys.includes(k) || (traits && CUSTOM_FIELD_KEY.test(k)))) out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * What the browser knows about where the user is, sent along with every identity. Costly the
 * first time in a page when it goes through Intl (~50 ms: the browser loads its locale data,
 * docs/DESIGN.md#measured-facts), which is why widget.js takes identify commands only once the
 * page is idle (boot.ts), and why the time zone comes from Temporal where the browser has it:
 * the same system setting, in ~1 ms.
 */
export function environment(): { timezone?: string; locale?: string } {
  const env: { timezone?: string; locale?: string } = {};
  try {
    // No Temporal, or an element with id="Temporal" in its place: both throw, and Intl answers.
    let zone: string;
    try {
      zone = (globalThis as any).Temporal.Now.timeZoneId();
    } catch {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    }
    env.timezone = zone.slice(0, TIMEZONE_MAX_CHARS);
    env.locale = navigator.language.slice(0, LOCALE_MAX_CHARS);
  } catch {
    /* a locked-down Intl or navigator: send what we have */
  }
  return env;
}

/**
 * Shapes a host page's identity, or explains (as a string, empty in widget.js) why it cannot be
 * used. `env` is merged under the page's own fields, so the page may override them.
 */
export function normalizeIdentity(raw: unknown, env: Record<string, string> = {}): Identity | string {
  if (!isObject(raw)) return __DEBUG__ ? 'identify needs an object' : '';
  const email = typeof raw.email === 'string' ? raw.email.trim().toLowerCase() : '';
  if (!email.includes('@')) return __DEBUG__ ? 'identify needs an email' : '';
  let id = email;
  if (typeof raw.id === 'number' && Number.isSafeInteger(raw.id) && raw.id >= 0) id = String(raw.id);
  else if (typeof raw.id === 'string' && raw.id.trim() && raw.id.length <= ID_MAX_CHARS) id = raw.id;
  else if (raw.id !== undefined && raw.id !== null) return __DEBUG__ ? 'identify: bad id' : '';
  const identity: Identity = { ...env, ...pick(raw, TOP, true), id, email };
  const account = pick(raw.account, ACCOUNT, true);
  if (account) identity.account = account;
  // Several accounts (docs/API.md#several-accounts), each shaped like the one; an entry with
  // nothing usable goes as null, which the collector refuses naming it.
  if (Array.isArray(raw.accounts)) identity.accounts = raw.accounts.map((a) => pick(a, ACCOUNT, true) ?? null);
  const location = pick(raw.location, LOCATION, false);
  if (location) identity.location = location;
  for (const k of ['timezone', 'locale']) if (typeof raw[k] === 'string') identity[k] = raw[k];
  return identity;
}

/**
 * A content hash of a normalized identity (whose keys come in a fixed order, see `pick`):
 * 32-bit FNV-1a plus the length, small enough to keep one per user in localStorage. It is only
 * ever compared with the same user's previous identity, so a collision (about 1 in 4 billion
 * changes) costs one skipped update that the next change, or the 24 h expiry, repairs.
 */
export function fingerprint(identity: Identity): string {
  const s = JSON.stringify(identity);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return `${(h >>> 0).toString(36)}.${s.length.toString(36)}`;
}
