/**
 * Per-field merging with versions: the rule that makes retries, duplicates and reordering
 * harmless (docs/API.md#identify-semantics) and lets stronger sources win over weaker ones (docs/API.md#trust).
 *
 * Every stored field carries the version of the update that set it. An update sets a field
 * only when its version is greater. Versions compare by rank first (the source's trust rank as
 * the site's mode decided it when the update was accepted: server/trust/ranks.ts), then by time,
 * then by message id as a deterministic tie-break. The merge is therefore a per-field maximum:
 * commutative, associative and idempotent, so any interleaving of the same updates ends in the
 * same record.
 */

/** Trust ranks of the sources of an update (docs/API.md#trust). Higher wins. */
export const RANK = { unproven: 0, user_hash: 1, token: 2, admin: 3 } as const;
export type Rank = (typeof RANK)[keyof typeof RANK];

/**
 * [rank (server/trust/ranks.ts), time in ms, tie-break, admin message id]. The fourth element
 * is present exactly on what the admin API wrote: the update's message id, or '' where it is
 * read back from the tie-break (a generated one) or there is none (an import). It never takes
 * part in ordering; a person's page shows it (server/http/provenance.ts).
 */
export type Version = [rank: number, at: number, tb: string, mid?: string];

export interface Profile {
  /** Field name → value (flat; custom traits keep their `cf_` key). */
  f: Record<string, unknown>;
  /** Field name → version of the update that set it. */
  v: Record<string, Version>;
}

export function emptyProfile(): Profile {
  return { f: {}, v: {} };
}

/** Negative, zero or positive as `a` is older, equal or newer than `b`. */
export function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

/**
 * Merges `fields` at `version` into `profile` in place. Undefined values are skipped (absent
 * means "not sent", never "clear"). Returns the names of the fields that changed.
 */
export function mergeInto(profile: Profile, fields: Record<string, unknown>, version: Version): string[] {
  const changed: string[] = [];
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === undefined) continue;
    const current = profile.v[key];
    if (current && compareVersions(version, current) <= 0) continue;
    profile.v[key] = version;
    if (!sameValue(profile.f[key], value)) changed.push(key);
    profile.f[key] = value;
  }
  return changed;
}

/** Merges one whole profile into another (used when a pending identity is promoted). */
export function mergeProfile(into: Profile, from: Profile): void {
  for (const key of Object.keys(from.f)) mergeInto(into, { [key]: from.f[key] }, from.v[key]);
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b));
}
