/**
 * Where each stored field came from (docs/API.md#identify-semantics, "Per-field versions"),
 * as a person's page shows it, read from the version the field was written at
 * (core/merge.ts): its source, its time, and the message id of the update.
 *
 * The source: what the admin API writes carries a fourth element (the update's message id, or
 * '' for none), which no other source sets, so it is told apart in every mode — also in `off`
 * mode, where every source writes at one rank (trust/ranks.ts). Anything else is named by the
 * source rank inside its rank: identity token, user_hash, or a page's unproven claim (in `off`
 * mode proofs are not checked, so everything a page sent is unproven).
 *
 * The message id: the fourth element when it holds one; otherwise read from the tie-break,
 * which for the widget's updates is the message id itself, and for these others has a shape:
 *
 * - `imp:NNNN`: a transactional import, which has no message id;
 * - `NNNN:<process>`: a bulk_identify item whose message id was generated as
 *   `adm:<time>:<tie-break>` (routes/admin.ts);
 * - `<16-digit page time>:<id>` at token rank: a token's claims (trust/items.ts).
 *
 * Admin-ranked versions written before the fourth element existed are read by their rank and
 * those shapes too.
 */
import { RANK, type Profile, type Version } from '../core/merge.ts';
import { ACCOUNT_LINK_PREFIX } from '../core/records.ts';
import { sourceOf } from '../trust/ranks.ts';

export type Source = 'admin_api' | 'identity_token' | 'user_hash' | 'unproven';

const SOURCES: Record<number, Source> = {
  [RANK.admin]: 'admin_api',
  [RANK.token]: 'identity_token',
  [RANK.user_hash]: 'user_hash',
  [RANK.unproven]: 'unproven',
};

export interface FieldOrigin {
  source: Source;
  at: string;
  message_id: string | null;
}

const byAdmin = (v: Version) => v[3] !== undefined || sourceOf(v[0]) === RANK.admin;

export function sourceOfVersion(v: Version): Source {
  return byAdmin(v) ? 'admin_api' : (SOURCES[sourceOf(v[0])] ?? 'unproven');
}

/** The message id of the update that wrote a version, or null for an import. */
export function messageIdOf(v: Version): string | null {
  if (v[3]) return v[3];
  if (byAdmin(v)) {
    if (/^imp:\d+$/.test(v[2])) return null;
    if (/^\d{4}:[A-Za-z0-9_-]+$/.test(v[2])) return `adm:${v[1]}:${v[2]}`;
    return v[3] === '' ? null : v[2];
  }
  if (sourceOf(v[0]) === RANK.token) {
    const claims = /^\d{16}:(.+)$/.exec(v[2]);
    if (claims) return claims[1];
  }
  return v[2];
}

export function originOf(v: Version): FieldOrigin {
  return { source: sourceOfVersion(v), at: new Date(v[1]).toISOString(), message_id: messageIdOf(v) };
}

/**
 * Every stored field of a profile with its origin, under the name the API shows the field by
 * (`renamed`: stored name → shown name). A link to an account (core/records.ts accountLinkField)
 * shows as `external_accounts.<key>`.
 */
export function provenanceOf(profile: Profile, renamed: Record<string, string> = {}): Record<string, FieldOrigin> {
  const out: Record<string, FieldOrigin> = {};
  for (const key of Object.keys(profile.f)) {
    const v = profile.v[key];
    const link = key.startsWith(ACCOUNT_LINK_PREFIX) ? key.slice(ACCOUNT_LINK_PREFIX.length) : undefined;
    if (v) out[link === undefined ? (renamed[key] ?? key) : `external_accounts.${link}`] = originOf(v);
  }
  return out;
}

/** Stored names of an external user's fields that the API shows under other names. */
export const EXTERNAL_USER_NAMES = { created_at: 'external_created_at', account: 'external_account' };
/** ... and of an account's. */
export const ACCOUNT_NAMES = { created_at: 'external_created_at' };
