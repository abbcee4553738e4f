/**
 * JSON.stringify that survives Prototype.js: pages that define `Array.prototype.toJSON` make
 * every array serialize as a string, which would turn our batches into garbage. We lift the
 * hook for the duration of one call and restore it, so the host page never sees a change.
 */
export function stringify(value: unknown): string {
  const proto = Array.prototype as { toJSON?: unknown };
  const hook = proto.toJSON;
  if (hook === undefined) return JSON.stringify(value);
  delete proto.toJSON;
  try {
    return JSON.stringify(value);
  } finally {
    proto.toJSON = hook;
  }
}

/** A plain JSON object: not null, not an array (what `typeof` alone calls an object). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON.parse that answers undefined instead of throwing on bad input. */
export function parse(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** UTF-8 byte length of a string: what counts against the 64 KB request budget. */
export function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}
