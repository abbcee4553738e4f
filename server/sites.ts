/**
 * Sites: one per customer app. The site key is public (it is in the embed snippet); the admin
 * key and the identity secret are not, and the admin key is stored only as a hash.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Site, Verification } from './core/records.ts';
import type { RevenueTrait } from '../shared/revenue-traits.ts';
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

/** What `sites create` prints: the only time the admin key, write key and secret are shown. */
export interface CreatedSite {
  site_key: string;
  admin_key: string;
  write_key: string;
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
  const write_key = newWriteKey(site_key);
  const site: Site = {
    key: site_key,
    name: s.name,
    admin_key_hash: hashKey(admin_key),
    write_key_hash: hashKey(write_key),
    identity_secrets: [identity_secret],
    origins: s.origins.map(normalizeOrigin),
    verification: s.verification ?? 'off',
    created_at: now,
  };
  await store.putSite(site);
  return {
    site_key,
    admin_key,
    write_key,
    identity_secret,
    origins: site.origins,
    verification: site.verification,
  };
}

/**
 * A write key names its site, so that the /v1 routes find the site with the one lookup by key
 * every engine has, then compare the key's hash: `wk_<site key, base64url>.<random>`. The site
 * key is public anyway; the random part is what authenticates. Only the hash is stored.
 */
function newWriteKey(siteKey: string): string {
  return `wk_${Buffer.from(siteKey).toString('base64url')}.${randomBytes(24).toString('base64url')}`;
}

/** The site a write key names, or undefined when the key is malformed or wrong. */
export async function siteByWriteKey(store: Store, writeKey: string): Promise<Site | undefined> {
  const m = /^wk_([A-Za-z0-9_-]{1,400})\.[A-Za-z0-9_-]{16,100}$/.exec(writeKey);
  if (!m) return undefined;
  const site = await store.getSite(Buffer.from(m[1], 'base64url').toString());
  if (!site?.write_key_hash) return undefined;
  const ok = timingSafeEqual(Buffer.from(site.write_key_hash, 'hex'), Buffer.from(hashKey(writeKey), 'hex'));
  return ok ? site : undefined;
}

/**
 * Replaces the site's write key, or gives a site made before write keys its first. The old key
 * stops working at once: a sender holds one write key, so update the senders right after (their
 * events retry meanwhile, within their own retry limits).
 */
export async function rotateWriteKey(store: Store, key: string): Promise<{ site_key: string; write_key: string }> {
  const site = await siteOrThrow(store, key);
  const write_key = newWriteKey(site.key);
  await store.putSite({ ...site, write_key_hash: hashKey(write_key) });
  return { site_key: key, write_key };
}

/** A site as `sites list` shows it: no secrets. */
export function publicSite(s: Site) {
  return {
    site_key: s.key,
    name: s.name,
    origins: s.origins,
    verification: s.verification,
    created_at: new Date(s.created_at).toISOString(),
    write_key: s.write_key_hash ? 'set' : 'none',
    segment_secret: s.segment_secret ? 'set' : 'none',
    geoip: s.geoip !== false,
    ...(s.revenue_trait ? { revenue_trait: s.revenue_trait } : {}),
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
  given?: string,
): Promise<{ site_key: string; identity_secret: string }> {
  if (given !== undefined) checkSecret(given, '--identity-secret');
  const site = await siteOrThrow(store, key);
  if (site.identity_secrets.length >= 2)
    throw new Error('this site already has two identity secrets; remove the old one first');
  const identity_secret = given ?? randomBytes(32).toString('hex');
  if (site.identity_secrets.includes(identity_secret)) throw new Error('this site already has that identity secret');
  await store.putSite({ ...site, identity_secrets: [...site.identity_secrets, identity_secret] });
  return { site_key: key, identity_secret };
}

/**
 * A secret brought from elsewhere (an Intercom identity verification secret, a Segment
 * webhook secret): long enough not to be guessed, printable so it survives a shell.
 */
function checkSecret(secret: string, flag: string): void {
  if (!/^[\x21-\x7e]{16,256}$/.test(secret))
    throw new Error(`${flag} must be 16-256 printable characters without spaces`);
}

/** The site settings `sites set` changes besides verification (docs/API.md#site-settings). */
export interface SiteSettings {
  /** The Webhooks destination's shared secret; null removes it. */
  segment_secret?: string | null;
  geoip?: boolean;
  /** null returns to the default revenue traits. */
  revenue_trait?: RevenueTrait | null;
}

export async function setSiteSettings(store: Store, key: string, settings: SiteSettings): Promise<Site> {
  const site = await siteOrThrow(store, key);
  const next: Site = { ...site };
  if (settings.segment_secret !== undefined) {
    if (settings.segment_secret === null) delete next.segment_secret;
    else {
      checkSecret(settings.segment_secret, '--segment-secret');
      next.segment_secret = settings.segment_secret;
    }
  }
  if (settings.geoip !== undefined) {
    if (settings.geoip) delete next.geoip;
    else next.geoip = false;
  }
  if (settings.revenue_trait !== undefined) {
    if (settings.revenue_trait === null) delete next.revenue_trait;
    else {
      const { name, unit } = settings.revenue_trait;
      if (!/^[A-Za-z0-9_.$-]{1,64}$/.test(name))
        throw new Error('--revenue-trait must be 1-64 letters, digits or _.$-');
      if (unit !== 'dollars' && unit !== 'cents') throw new Error('--revenue-unit must be dollars or cents');
      next.revenue_trait = { name, unit };
    }
  }
  await store.putSite(next);
  return next;
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
