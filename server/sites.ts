/**
 * Sites: one per customer app. The site key is public (it is in the embed snippet); the admin
 * key and the identity secret are not, and the admin key is stored only as a hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Site, Verification } from './core/records.ts';
import type { Store } from './store/types.ts';

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export interface NewSite {
  name: string;
  origins: string[];
  verification?: Verification;
  siteKey?: string;
  adminKey?: string;
}

/** What `sites create` prints: the only time the admin key and secret are shown. */
export interface CreatedSite {
  site_key: string;
  admin_key: string;
  identity_secret: string;
  origins: string[];
  verification: Verification;
}

/** Normalizes an origin the way browsers send it: scheme://host[:port], no path, lower case. */
export function normalizeOrigin(origin: string): string {
  const url = new URL(origin);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`origin must be http(s): ${origin}`);
  return url.origin;
}

export async function createSite(store: Store, s: NewSite, now = Date.now()): Promise<CreatedSite> {
  const site_key = s.siteKey ?? 'site_' + randomBytes(9).toString('base64url');
  if (await store.getSite(site_key)) throw new Error(`site ${site_key} already exists`);
  const admin_key = s.adminKey ?? 'pk_admin_' + randomBytes(24).toString('base64url');
  const identity_secret = randomBytes(32).toString('hex');
  const site: Site = {
    key: site_key,
    name: s.name,
    admin_key_hash: hashKey(admin_key),
    identity_secrets: [identity_secret],
    origins: s.origins.map(normalizeOrigin),
    verification: s.verification ?? 'off',
    created_at: now,
  };
  await store.putSite(site);
  return { site_key, admin_key, identity_secret, origins: site.origins, verification: site.verification };
}

/** A site as `sites list` shows it: no secrets. */
export function publicSite(s: Site) {
  return { site_key: s.key, name: s.name, origins: s.origins, verification: s.verification, created_at: new Date(s.created_at).toISOString() };
}
