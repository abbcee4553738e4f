/**
 * Segment's tracking API events, mapped to what Parley applies (docs/API.md#the-v1-routes):
 * an `identify` becomes an identity, a `group` an identity naming its account (which links the
 * user to it), a `delete` an erasure; every other type is accepted and ignored. Pure: the route
 * (server/routes/segment-v1.ts) fills in what needs the store (an email the event does not
 * carry) and the request (the location), then validates the identity with the shared schema.
 *
 * Reserved traits come in camelCase or snake_case (Segment's spec allows both); any other
 * scalar trait becomes a `cf_*` custom field. A trait Parley cannot hold (an object, a string
 * past the custom field limit, the 101st) is dropped, not refused: a tracking plan is written
 * for every tool at once, and one tool must not reject what the others take.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CUSTOM_FIELD_VALUE_MAX_CHARS, CUSTOM_FIELDS_MAX, ID_MAX_CHARS } from '../../shared/limits.ts';
import type { RevenueTrait } from '../../shared/revenue-traits.ts';

export { DEFAULT_REVENUE_TRAITS } from '../../shared/revenue-traits.ts';

const segmentId = z.union([z.string().min(1).max(ID_MAX_CHARS), z.number().finite()]).transform(String);
const record = z.record(z.string(), z.unknown());
const shortText = z.string().max(256);

/** One event as Segment's libraries and its Webhooks destination send it; unknown keys are ignored. */
export const segmentEvent = z.looseObject({
  type: z.string().min(1).max(64).optional(),
  userId: segmentId.nullish(),
  anonymousId: segmentId.nullish(),
  groupId: segmentId.nullish(),
  messageId: z.string().min(1).max(1024).nullish(),
  timestamp: z.union([z.iso.datetime({ offset: true }), z.iso.date()]).nullish(),
  traits: record.nullish(),
  context: z
    .looseObject({
      ip: z.string().max(64).nullish(),
      timezone: shortText.nullish(),
      locale: shortText.nullish(),
      app: z.looseObject({ version: shortText.nullish() }).nullish(),
    })
    .nullish(),
});
export type SegmentEvent = z.output<typeof segmentEvent>;

/** A raw identity object (validated later with the shared schema) and where each key came from. */
export interface Mapped {
  identity: Record<string, unknown>;
  /** Identity key → the event path it was read from, so a 400 names the sender's field. */
  from: Record<string, string>;
}

export type Action =
  | { kind: 'identify' | 'group'; userId: string; messageId?: string; at?: number; ip?: string; mapped: Mapped }
  | { kind: 'erase'; userId: string }
  | { kind: 'skipped'; reason: 'no_user_id' }
  | { kind: 'ignored' };

export interface EventIssue {
  field: string;
  message: string;
}

/**
 * What one parsed event asks for, or the issue that makes it malformed. `type` defaults to the
 * route's (`/v1/identify` posts carry none); Segment's rules: identify and group need a userId
 * or anonymousId, group a groupId. An event with only an anonymousId identifies nobody Parley
 * can name (it keys people by the integrator's user id): skipped, and counted.
 */
export function actionOf(
  e: SegmentEvent,
  routeType: string | undefined,
  revenue: readonly RevenueTrait[],
): Action | EventIssue {
  const type = e.type ?? routeType;
  if (!type) return { field: 'type', message: 'required' };
  if (type === 'delete')
    return e.userId ? { kind: 'erase', userId: e.userId } : { field: 'userId', message: 'required' };
  if (type !== 'identify' && type !== 'group') return { kind: 'ignored' };
  if (!e.userId && !e.anonymousId) return { field: 'userId', message: 'userId or anonymousId is required' };
  if (type === 'group' && !e.groupId) return { field: 'groupId', message: 'required' };
  if (!e.userId) return { kind: 'skipped', reason: 'no_user_id' };
  const at = e.timestamp ? Date.parse(e.timestamp) : undefined;
  const base = { userId: e.userId, messageId: e.messageId ?? undefined, at, ip: e.context?.ip ?? undefined };
  const mapped = type === 'identify' ? identifyOf(e, revenue) : groupOf(e, revenue);
  return { kind: type, ...base, mapped };
}

/** identify: the person's reserved traits, their company as the account, the rest as cf_*. */
function identifyOf(e: SegmentEvent, revenue: readonly RevenueTrait[]): Mapped {
  const t = e.traits ?? {};
  const out: Mapped = { identity: { id: e.userId }, from: { id: 'userId' } };
  const set = (key: string, value: unknown, path: string) => {
    if (value === undefined || value === null) return;
    out.identity[key] = value;
    out.from[key] = path;
  };
  set('email', t.email, 'traits.email');
  const first = t.firstName ?? t.first_name;
  const last = t.lastName ?? t.last_name;
  const joined = [first, last].filter((s) => typeof s === 'string' && s.trim()).join(' ');
  set('name', t.name ?? (joined || undefined), t.name !== undefined ? 'traits.name' : 'traits.firstName');
  const created = t.createdAt !== undefined ? 'createdAt' : 'created_at';
  set('created_at', secondsOf(t[created]), `traits.${created}`);
  const ctx = e.context;
  set('app_version', ctx?.app?.version, 'context.app.version');
  set('timezone', ctx?.timezone, 'context.timezone');
  set('locale', ctx?.locale, 'context.locale');
  const company = isRecord(t.company) ? t.company : undefined;
  if (company) {
    const account = accountOf(company, revenue, 'traits.company', out.from);
    // Segment puts `plan` on the person; Parley keeps plans on accounts, so it goes there.
    if (account.plan === undefined && t.plan !== undefined) {
      account.plan = t.plan;
      out.from['account.plan'] = 'traits.plan';
    }
    out.identity.account = account;
  }
  const reserved = new Set([
    'email',
    'name',
    'firstName',
    'first_name',
    'lastName',
    'last_name',
    'createdAt',
    'created_at',
    'company',
    'id',
    'userId',
  ]);
  if (company) reserved.add('plan');
  customFields(t, reserved, out.identity, out.from, 'traits', '');
  return out;
}

/** group: the account the group names, with its traits; the person's link to it comes with it. */
function groupOf(e: SegmentEvent, revenue: readonly RevenueTrait[]): Mapped {
  const from: Record<string, string> = { id: 'userId', 'account.id': 'groupId' };
  const account = accountOf({ ...(e.traits ?? {}), id: e.groupId }, revenue, 'traits', from);
  from['account.id'] = 'groupId';
  return { identity: { id: e.userId, account }, from };
}

/** An account object from a company's or a group's traits. */
function accountOf(
  t: Record<string, unknown>,
  revenue: readonly RevenueTrait[],
  path: string,
  from: Record<string, string>,
): Record<string, unknown> {
  const a: Record<string, unknown> = {};
  const set = (key: string, value: unknown, field: string) => {
    if (value === undefined || value === null) return;
    a[key] = value;
    from[`account.${key}`] = `${path}.${field}`;
  };
  set('id', t.id, 'id');
  set('name', t.name, 'name');
  set('plan', t.plan, 'plan');
  const created = t.createdAt !== undefined ? 'createdAt' : 'created_at';
  set('created_at', secondsOf(t[created]), created);
  const used = new Set(['id', 'name', 'plan', 'createdAt', 'created_at']);
  for (const r of revenue) {
    used.add(r.name);
    const amount = amountOf(t[r.name]);
    if (amount === undefined || a.mrr_cents !== undefined) continue;
    // Rounded to whole cents: a tracking plan's revenue is often computed (33.333), and the
    // widget's own money rule (no sub-cent amounts) exists to catch unit mistakes in hand-written code.
    set('mrr_cents', Math.round(r.unit === 'dollars' ? amount * 100 : amount), r.name);
  }
  customFields(t, used, a, from, path, 'account.');
  return a;
}

/** Other scalar traits as cf_<snake_case>, within the custom field limits; others are dropped. */
function customFields(
  t: Record<string, unknown>,
  skip: Set<string>,
  into: Record<string, unknown>,
  from: Record<string, string>,
  path: string,
  prefix: string,
): void {
  let n = 0;
  for (const [key, value] of Object.entries(t)) {
    if (skip.has(key) || key.startsWith('$')) continue;
    const ok =
      (typeof value === 'string' && value.length <= CUSTOM_FIELD_VALUE_MAX_CHARS) ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      typeof value === 'boolean';
    const name = customKey(key);
    if (!ok || !name || name in into) continue;
    if (++n > CUSTOM_FIELDS_MAX) break;
    into[name] = value;
    from[prefix + name] = `${path}.${key}`;
  }
}

/** `planTier` / `plan-tier` / `Plan Tier` → `cf_plan_tier`; undefined when nothing is left. */
export function customKey(key: string): string | undefined {
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/^cf_/, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  return snake ? `cf_${snake}` : undefined;
}

/** A Segment date (ISO string, or a number of seconds or milliseconds) as Unix seconds; else as given, for the schema to name. */
function secondsOf(v: unknown): unknown {
  if (typeof v === 'string' && !/^\d+$/.test(v)) {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? v : Math.floor(ms / 1000);
  }
  const n = typeof v === 'string' ? Number(v) : v;
  // Segment's libraries send Dates as ISO strings; a number this large is milliseconds.
  if (typeof n === 'number' && n > 1e11) return Math.floor(n / 1000);
  return n;
}

/** A revenue figure: a non-negative number, or a numeric string; anything else is not revenue. */
function amountOf(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The message id an event is deduplicated by: `seg:` and Segment's messageId, hashed when it
 * does not fit Parley's message id rules (docs/API.md#http-api), so the same event always gets
 * the same id.
 */
export function dedupeId(messageId: string): string {
  const plain = `seg:${messageId}`;
  if (plain.length <= 64 && /^[A-Za-z0-9_.:-]+$/.test(plain)) return plain;
  return `seg:${createHash('sha256').update(messageId).digest('base64url').slice(0, 43)}`;
}

/** Segment's user-deletion shape (a regulation, as its Public API takes it). */
export const segmentRegulation = z.object({
  regulationType: z.string().max(64),
  subjectType: z.literal('USER_ID'),
  subjectIds: z.array(segmentId).min(1).max(5000),
});

/** True for a body that is a regulation rather than events (it has no `type`, `batch` or array). */
export function isRegulation(body: unknown): boolean {
  return isRecord(body) && 'regulationType' in body && !('type' in body);
}

/** The user ids a regulation erases: only deleting ones (SUPPRESS/UNSUPPRESS alone delete nothing). */
export function regulationErases(r: z.output<typeof segmentRegulation>): string[] {
  return /DELETE/.test(r.regulationType) ? r.subjectIds : [];
}
