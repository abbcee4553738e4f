/**
 * Sites: one per customer app. The site key is public (it is in the embed snippet); the admin
 * key and the identity secret are not, and the admin key is stored only as a hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Site, Verification } from './core/records.ts';
import { eraAfter } from './trust/ranks.ts';
import { normalizeOriginPattern } from './http/origins.ts';
import type { Store } from './core/store.ts';

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

/**
 * Normalizes an origin the way browsers send it: scheme://host[:port], no path, lower case;
 * `https://*.example.com` wildcards are kept as such (server/http/origins.ts).
 */
export function normalizeOrigin(origin: string): string {
  return normalizeOriginPattern(origin);
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
  return {
    site_key: s.key,
    name: s.name,
    origins: s.origins,
    verification: s.verification,
    created_at: new Date(s.created_at).toISOString(),
  };
}

async function siteOrThrow(store: Store, key: string): Promise<Site> {
  const site = await store.getSite(key);
  if (!site) throw new Error(`no site ${key}`);
  return site;
}

/**
 * Secret rotation, step 1 of 3 (add, deploy the new secret to the backend, remove the old):
 * adds a new identity secret; proofs made with either are accepted meanwhile.
 */
export async function addIdentitySecret(
  store: Store,
  key: string,
): Promise<{ site_key: string; identity_secret: string }> {
  const site = await siteOrThrow(store, key);
  if (site.identity_secrets.length >= 2)
    throw new Error('this site already has two identity secrets; remove the old one first');
  const identity_secret = randomBytes(32).toString('hex');
  await store.putSite({ ...site, identity_secrets: [...site.identity_secrets, identity_secret] });
  return { site_key: key, identity_secret };
}

/** Secret rotation, step 3: drops the oldest identity secret; proofs made with it now fail. */
export async function removeOldIdentitySecret(
  store: Store,
  key: string,
): Promise<{ site_key: string; identity_secrets: number }> {
  const site = await siteOrThrow(store, key);
  if (site.identity_secrets.length < 2)
    throw new Error('this site has only one identity secret; add one before removing');
  await store.putSite({ ...site, identity_secrets: site.identity_secrets.slice(1) });
  return { site_key: key, identity_secrets: 1 };
}

/**
 * Changes a site's identity-verification mode (docs/API.md#trust). Switching to `off` from a mode
 * that ranks sources starts a new rank era, so the newest update wins over everything stored.
 */
export async function setVerification(store: Store, key: string, verification: Verification): Promise<void> {
  const site = await siteOrThrow(store, key);
  await store.putSite({ ...site, verification, rank_era: eraAfter(site, verification) });
}
