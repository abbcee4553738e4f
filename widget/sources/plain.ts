/**
 * Turns whatever a page left in a global or in storage into plain data, or nothing, without
 * ever throwing: the values sources.js reads belong to the host page and to other vendors'
 * scripts, so they may be cyclic, huge, proxies, or objects whose getters throw
 * (docs/API.md#already-using-segment-or-intercom). Everything after this step is pure code on
 * plain data.
 */
import { CUSTOM_FIELD_VALUE_MAX_CHARS } from '../../shared/limits.ts';

export type Data = Record<string, unknown>;

/** Keys copied from one object; more is not an identity, it is garbage. */
const MAX_KEYS = 200;
/** Items copied from one array: as many companies as an identity's accounts (see map.ts). */
const MAX_ITEMS = 10;

/**
 * A copy of `value` at most `depth` objects deep: strings up to the longest value the identity
 * accepts (longer ones are left out, not cut), finite numbers, booleans, arrays and objects
 * (null-prototype, so a `__proto__` key is only a key). A property whose getter throws is left
 * out; an object that cannot even list its keys is nothing.
 */
export function plain(value: unknown, depth = 3): unknown {
  try {
    if (typeof value === 'string') return value.length <= CUSTOM_FIELD_VALUE_MAX_CHARS ? value : undefined;
    if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
    if (typeof value === 'boolean') return value;
    if (typeof value !== 'object' || value === null || depth <= 0) return undefined;
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      for (let i = 0; i < Math.min(value.length, MAX_ITEMS); i++) out.push(plain(value[i], depth - 1));
      return out;
    }
    const out: Data = Object.create(null);
    for (const key of Object.keys(value).slice(0, MAX_KEYS)) {
      try {
        const v = plain((value as Data)[key], depth - 1);
        if (v !== undefined) out[key] = v;
      } catch {
        /* a getter that throws: that key is not there */
      }
    }
    return out;
  } catch {
    return undefined;
  }
}

/** `value` as a plain object, or an empty one. */
export const object = (value: unknown): Data =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Data) : {};

/** JSON text as analytics.js writes it, or the text itself when it is not JSON (as analytics.js reads it). */
export function decode(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
