/**
 * Whose feedback is it? Where a site ranks sources (docs/API.md#trust), what a page says without
 * proof is only a claim: anyone can type someone else's id or email into a page, and a user_hash
 * proves the id alone. Feedback whose claim would speak for a person that a stronger source
 * vouched for is recorded anonymously instead; in `off` mode the site believes its pages.
 */
import type { Identity } from '../../shared/identity.ts';
import { RANK, type Profile } from '../core/merge.ts';
import type { ExternalUser, Site, User } from '../core/records.ts';
import type { Store } from '../core/store.ts';
import type { Checked } from './proof.ts';

/** Whether a stronger source than `rank` set any field of the profile. */
const stronger = (p: Profile | undefined, rank: number) => !!p && Object.values(p.v).some((v) => v[0] > rank);

/** The rank at which an external user vouches for `email`: its email version's, if that is its email. */
const vouches = (eu: ExternalUser, email: string) =>
  eu.profile.f.email === email ? (eu.profile.v.email?.[0] ?? -1) : -1;

/** The user feedback with this identity would be attributed to: its own external user's, or its email's. */
async function target(store: Store, site: string, claim: { id?: string; email?: string }) {
  const eu = claim.id === undefined ? undefined : await store.getExternalUser(site, claim.id);
  const user: User | undefined = eu
    ? await store.getUser(site, eu.user_id)
    : claim.email === undefined
      ? undefined
      : await store.getUserByEmail(site, claim.email);
  return { eu, user, others: user ? await store.externalUsersOf(site, user.id) : [] };
}

/**
 * Whether the person an unproven claim names (by integrator id, or by email), or the person its
 * feedback would go to, has fields that a source stronger than the claim set: in the visible
 * store or still pending.
 */
async function claimsStrongerPerson(
  store: Store,
  site: string,
  claim: { id?: string; email?: string },
  rank: number,
): Promise<boolean> {
  if (claim.id !== undefined && stronger((await store.getPending(site, claim.id))?.profile, rank)) return true;
  const { eu, others } = await target(store, site, claim);
  if (stronger(eu?.profile, rank) || others.some((o) => stronger(o.profile, rank))) return true;
  if (eu && claim.email !== undefined) {
    // Its own external user belongs to someone else than the email it claims: that email's person too.
    const named = await store.getUserByEmail(site, claim.email);
    if (named && (await store.externalUsersOf(site, named.id)).some((o) => stronger(o.profile, rank))) return true;
  }
  return false;
}

/**
 * Whether an identity proven by user_hash, whose email is unproven, would speak for a user whose
 * email a stronger source established: the user it joins by email, or the one its external user
 * joined before that source came (it stays attached — external users never move — but it does
 * not speak for them). What its own external user holds for the email counts for it.
 */
async function claimsStrongerEmail(store: Store, site: string, identity: Identity, rank: number): Promise<boolean> {
  const { eu, user, others } = await target(store, site, identity);
  if (!user) return false;
  const own = Math.max(rank, eu ? vouches(eu, user.email) : -1);
  return others.some((o) => o.external_id !== identity.id && vouches(o, user.email) > own);
}

/**
 * Whether feedback may be attributed to the person it names: its checked identity, or, without
 * one, the email of an anonymous author. `rank` is the rank the feedback is written at.
 */
export async function attributable(
  store: Store,
  site: Site,
  author: { checked?: Checked; email?: string },
  rank: number,
): Promise<boolean> {
  const { checked, email } = author;
  if (site.verification === 'off' || checked?.rank === RANK.token) return true;
  if (checked?.rank === RANK.user_hash) return !(await claimsStrongerEmail(store, site.key, checked.identity, rank));
  return !(await claimsStrongerPerson(store, site.key, checked?.identity ?? { email }, rank));
}
