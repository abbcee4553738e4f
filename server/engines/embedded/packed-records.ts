/**
 * Pending identities and pending accounts as one compact JSON string each, the form the
 * embedded store keeps them in (memory-store.ts) and writes to its checkpoint files as-is
 * (lowdb-store.ts). A store holds up to a million people no one has asked about yet
 * (README, Limits of the embedded store), so what each costs in memory is what the store
 * costs: as JS objects a pending identity took ~1 KB of RSS (docs/PERFORMANCE.md), as one
 * flat string it takes about its length.
 *
 * The string is a JSON array: the profile's fields, then its versions, then the record's other
 * fields, the time last: a pending identity is `[f, versions, account_keys, received_at]`, a
 * pending account `[f, versions, external_id, updated_at]`. The site and the id are not in it:
 * they are the key the store files it under. The fields are `[name, value, name, value, …]`
 * with the names every identify sends (FIELD_NAMES) written as their place in that list. One
 * identify sets every field it carries at the same version, so versions are runs over the
 * fields in order, `[[count, ...version], …]`, instead of one array per field; a profile whose
 * versions do not line up with its fields keeps them as the object they are. Fields of a
 * record beyond those it declares (none today) go in an object before the time, so nothing
 * written is ever dropped.
 *
 * Reading a record parses it into new objects: a caller may change what it read and put it
 * back, as with the plain Maps before.
 */
import type { Pending, PendingAccount } from '../../core/records.ts';
import type { Profile, Version } from '../../core/merge.ts';
import { flat } from './flat-string.ts';

type Run = [count: number, ...version: Version];

/**
 * Profile field names written as their place in this list (core/identify.ts userFields and
 * accountFields). Part of the file format: a name's place never changes, new names go at the end.
 */
const FIELD_NAMES = [
  'email',
  'name',
  'type',
  'created_at',
  'app_version',
  'location',
  'timezone',
  'locale',
  'account',
  'plan',
  'mrr_cents',
  'ltv_cents',
] as const;
const FIELD_PLACE = new Map<string, number>(FIELD_NAMES.map((name, i) => [name, i]));

/** The fields as `[name or its place, value, …]`; an undefined field is left out, as JSON would. */
function fieldList(f: Profile['f']): unknown[] {
  const out: unknown[] = [];
  for (const key of Object.keys(f)) {
    const value = f[key];
    if (value === undefined) continue;
    out.push(FIELD_PLACE.get(key) ?? key, value);
  }
  return out;
}

function fieldsOf(list: unknown[]): Profile['f'] {
  const f: Profile['f'] = {};
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i];
    f[typeof name === 'number' ? FIELD_NAMES[name] : (name as string)] = list[i + 1];
  }
  return f;
}

const sameVersion = (a: Version, b: Version) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The profile's versions as runs over its fields, or the versions object when they do not line up. */
function versionsOf(p: Profile): Run[] | Profile['v'] {
  const keys = Object.keys(p.f);
  const vkeys = Object.keys(p.v);
  if (keys.length !== vkeys.length) return p.v;
  const runs: Run[] = [];
  let last: Version | undefined;
  for (let i = 0; i < keys.length; i++) {
    const v = p.v[keys[i]];
    // JSON drops an undefined field: runs would then count fields the string does not have.
    if (keys[i] !== vkeys[i] || !Array.isArray(v) || p.f[keys[i]] === undefined) return p.v;
    if (last !== undefined && sameVersion(last, v)) runs[runs.length - 1][0]++;
    else runs.push([1, ...v]);
    last = v;
  }
  return runs;
}

function profileOf(list: unknown[], versions: Run[] | Profile['v']): Profile {
  const f = fieldsOf(list);
  if (!Array.isArray(versions)) return { f, v: versions };
  const v: Profile['v'] = {};
  const keys = Object.keys(f);
  let i = 0;
  for (const run of versions) {
    // Fields merged together share one version array, as mergeInto (core/merge.ts) leaves them.
    const version = run.slice(1) as Version;
    for (let n = run[0]; n > 0; n--) v[keys[i++]] = version;
  }
  return { f, v };
}

/** The fields of `record` other than `known`, or undefined when there are none. */
function extraOf(record: object, known: readonly string[]): Record<string, unknown> | undefined {
  let extra: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(record))
    if (!known.includes(key) && value !== undefined) (extra ??= {})[key] = value;
  return extra;
}

/**
 * The time a packed record ends with, read without parsing the rest (pruning walks every
 * pending identity). NaN when the string does not end with a number.
 */
export function packedTime(packed: string): number {
  const cut = packed.lastIndexOf(',');
  const text = packed.slice(cut + 1, -1);
  return text === '' ? NaN : Number(text);
}

const PENDING_FIELDS = ['site', 'external_id', 'profile', 'account_keys', 'received_at'] as const;

export function packPending(p: Pending): string {
  const extra = extraOf(p, PENDING_FIELDS);
  const out: unknown[] = [fieldList(p.profile.f), versionsOf(p.profile), p.account_keys];
  if (extra) out.push(extra);
  out.push(p.received_at);
  return flat(JSON.stringify(out));
}

export function unpackPending(site: string, externalId: string, packed: string): Pending {
  const a = JSON.parse(packed) as unknown[];
  const p: Pending = {
    site,
    external_id: externalId,
    profile: profileOf(a[0] as unknown[], a[1] as Run[]),
    account_keys: a[2] as string[],
    received_at: a[a.length - 1] as number,
  };
  return a.length > 4 ? { ...p, ...(a[3] as object) } : p;
}

/** When a packed pending identity was last received (prunePending), parsing only if it must. */
export function pendingReceivedAt(packed: string): number {
  const t = packedTime(packed);
  if (!Number.isNaN(t)) return t;
  const a = JSON.parse(packed) as unknown[];
  return a[a.length - 1] as number;
}

const PENDING_ACCOUNT_FIELDS = ['site', 'key', 'external_id', 'profile', 'updated_at'] as const;

export function packPendingAccount(a: PendingAccount): string {
  const extra = extraOf(a, PENDING_ACCOUNT_FIELDS);
  const out: unknown[] = [fieldList(a.profile.f), versionsOf(a.profile), a.external_id];
  if (extra) out.push(extra);
  out.push(a.updated_at);
  return flat(JSON.stringify(out));
}

export function unpackPendingAccount(site: string, key: string, packed: string): PendingAccount {
  const a = JSON.parse(packed) as unknown[];
  const p: PendingAccount = {
    site,
    key,
    external_id: a[2] as string | null,
    profile: profileOf(a[0] as unknown[], a[1] as Run[]),
    updated_at: a[a.length - 1] as number,
  };
  return a.length > 4 ? { ...p, ...(a[3] as object) } : p;
}

/** When a packed pending account was last updated (prunePending). */
export function pendingAccountUpdatedAt(packed: string): number {
  return pendingReceivedAt(packed);
}
