/**
 * Where each stored field came from (docs/API.md#identify-semantics, "Per-field versions"),
 * as a person's page shows it: read from the version the field was written at
 * (core/merge.ts). The rank says the source; the time is the version's; the message id is
 * the update's, which the version holds as its tie-break for the widget's updates and as its
 * own element for the admin API's, with two kinds of version made before that element
 * existed read from their tie-break:
 *
 * - admin rank, tie-break `imp:NNNN`: a transactional import, which has no message id;
 * - admin rank, tie-break `NNNN:<process>`: a bulk_identify item whose message id was
 *   generated as `adm:<time>:<tie-break>` (routes/admin.ts);
 * - token rank, tie-break `<16-digit page time>:<id>`: a token's claims (trust/items.ts).
 */
import { RANK, type Profile, type Version } from '../core/merge.ts';

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

/** The message id of the update that wrote a version, or null for an import. */
export function messageIdOf(v: Version): string | null {
  if (v[3] !== undefined) return v[3];
  if (v[0] === RANK.admin) {
    if (/^imp:\d+$/.test(v[2])) return null;
    if (/^\d{4}:[A-Za-z0-9_-]+$/.test(v[2])) return `adm:${v[1]}:${v[2]}`;
  }
  if (v[0] === RANK.token) {
    const claims = /^\d{16}:(.+)$/.exec(v[2]);
    if (claims) return claims[1];
  }
  return v[2];
}

export function originOf(v: Version): FieldOrigin {
  return { source: SOURCES[v[0]] ?? 'unproven', at: new Date(v[1]).toISOString(), message_id: messageIdOf(v) };
}

/**
 * Every stored field of a profile with its origin, under the name the API shows the field by
 * (`renamed`: stored name → shown name).
 */
export function provenanceOf(profile: Profile, renamed: Record<string, string> = {}): Record<string, FieldOrigin> {
  const out: Record<string, FieldOrigin> = {};
  for (const key of Object.keys(profile.f)) {
    const v = profile.v[key];
    if (v) out[renamed[key] ?? key] = originOf(v);
  }
  return out;
}

/** Stored names of an external user's fields that the API shows under other names. */
export const EXTERNAL_USER_NAMES = { created_at: 'external_created_at', account: 'external_account' };
/** ... and of an account's. */
export const ACCOUNT_NAMES = { created_at: 'external_created_at' };
