/**
 * Custom field definitions at work (docs/API.md#http-api). Until a site defines a key, its values are
 * stored as given. Once it does, every value is checked against the definition and coerced
 * where the meaning is unambiguous ("12" → 12 for a number, "true" → true, an ISO date →
 * Unix seconds); a value that does not fit is dropped and reported as a warning — a wrong
 * value is never stored. Pure: no store, no clock.
 */
import type { Identity, Traits, TraitValue } from '../../shared/identity.ts';
import type { CustomFieldDef } from '../../shared/imports.ts';
import { timestamp } from '../../shared/text.ts';

export type FieldObject = CustomFieldDef['object'];

/** A value that was dropped; `field` is the trait key, prefixed by the caller's path. */
export interface FieldWarning {
  index?: number;
  field: string;
  message: string;
}

/** Definitions of one site, by object and key. */
export type FieldDefs = Map<string, CustomFieldDef>;

export function fieldDefs(defs: readonly CustomFieldDef[] | undefined): FieldDefs {
  return new Map((defs ?? []).map((d) => [`${d.object}:${d.key}`, d]));
}

/** Merges new definitions into the current ones: same object and key replaces, others stay. */
export function upsertDefs(current: readonly CustomFieldDef[], incoming: readonly CustomFieldDef[]): CustomFieldDef[] {
  const byKey = fieldDefs(current);
  for (const d of incoming) byKey.set(`${d.object}:${d.key}`, d);
  return [...byKey.values()];
}

const TRUE = new Set(['true', '1', 'yes', 'y', 'on']);
const FALSE = new Set(['false', '0', 'no', 'n', 'off']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

type Coerced = { ok: true; value: TraitValue } | { ok: false; message: string };

/** Coerces one value to its definition's type. */
export function coerceValue(def: CustomFieldDef, value: TraitValue): Coerced {
  switch (def.type) {
    case 'text':
      return { ok: true, value: typeof value === 'string' ? value : String(value) };
    case 'number': {
      if (typeof value === 'number') return { ok: true, value };
      if (typeof value === 'string' && NUMBER.test(value.trim()) && Number.isFinite(Number(value)))
        return { ok: true, value: Number(value) };
      return { ok: false, message: 'must be a number' };
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { ok: true, value };
      const s = String(value).trim().toLowerCase();
      if (TRUE.has(s)) return { ok: true, value: true };
      if (FALSE.has(s)) return { ok: true, value: false };
      return { ok: false, message: 'must be a boolean (true/false)' };
    }
    case 'timestamp': {
      const raw = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
      const parsed = timestamp.safeParse(raw);
      return parsed.success
        ? { ok: true, value: parsed.data }
        : { ok: false, message: 'must be Unix seconds or an ISO-8601 date' };
    }
    case 'url': {
      if (typeof value === 'string' && isWebUrl(value)) return { ok: true, value };
      return { ok: false, message: 'must be an http(s) URL' };
    }
    case 'select': {
      const s = String(value);
      if (def.options?.includes(s)) return { ok: true, value: s };
      return { ok: false, message: `must be one of ${(def.options ?? []).join(', ')}` };
    }
  }
}

function isWebUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Checks `traits` of one object against the site's definitions. Returns the traits to store
 * (undefined keys untouched, defined ones coerced, misfits dropped) and a warning per drop,
 * named `${path}${key}` (e.g. `account.cf_region`).
 */
export function coerceTraits(
  defs: FieldDefs,
  object: FieldObject,
  traits: Traits,
  path = '',
): { traits: Traits; warnings: FieldWarning[] } {
  if (defs.size === 0) return { traits, warnings: [] };
  const out: Traits = {};
  const warnings: FieldWarning[] = [];
  for (const [key, value] of Object.entries(traits)) {
    const def = defs.get(`${object}:${key}`);
    if (!def) {
      out[key] = value;
      continue;
    }
    const c = coerceValue(def, value);
    if (c.ok) out[key] = c.value;
    else warnings.push({ field: path + key, message: `${c.message}; value ${JSON.stringify(value)} was not stored` });
  }
  return { traits: out, warnings };
}

/**
 * Checks an identity's user and account traits (docs/API.md#the-identity-object `cf_*` keys) against the site's
 * definitions, the way imports are checked; the applier logs the warnings.
 */
export function coerceIdentity(defs: FieldDefs, identity: Identity): { identity: Identity; warnings: FieldWarning[] } {
  if (defs.size === 0) return { identity, warnings: [] };
  const user = coerceTraits(defs, 'user', identity.traits);
  const account = identity.account ? coerceTraits(defs, 'account', identity.account.traits, 'account.') : null;
  const accounts = (identity.accounts ?? []).map((a, i) => coerceTraits(defs, 'account', a.traits, `accounts.${i}.`));
  return {
    identity: {
      ...identity,
      traits: user.traits,
      ...(identity.account && account ? { account: { ...identity.account, traits: account.traits } } : {}),
      ...(identity.accounts
        ? { accounts: identity.accounts.map((a, i) => ({ ...a, traits: accounts[i].traits })) }
        : {}),
    },
    warnings: [...user.warnings, ...(account?.warnings ?? []), ...accounts.flatMap((c) => c.warnings)],
  };
}
