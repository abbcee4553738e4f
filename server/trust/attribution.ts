/**
 * Whose feedback is it? Where a site ranks sources (docs/API.md#trust), what a page says without
 * proof is only a claim: anyone can type someone else's id or email into a page, and a user_hash
 * proves the id alone. Feedback whose claim would speak for a person that a stronger source
 * vouched for is recorded anonymously instead; in `off` mode the site believes its pages.
 */
import type { Identity } from '../../shared/identity.ts';
import { RANK, type Profile } from '../core/merge.ts';
import type { Site } from '../core/records.ts';
import type { Store } from '../store/types.ts';
import type { Checked } from './proof.ts';

/** Whether a stronger source than `rank` set any field of the profile. */
const stronger = (p: Profile | undefined, rank: number) => !!p && Object.values(p.v).some((v) => v[0] > rank);

/**
 * Whether the person an unproven claim names (by integrator id, or by email) has fields that a
 * source stronger than the claim set: in the visible store or still pending.
 */
async function claimsStrongerPerson(
  store: Store,
  site: string,
  claim: { id?: string; email?: string },
  rank: number,
): Promise<boolean> {
  if (claim.id !== undefined) {
    if (stronger((await store.getExternalUser(site, claim.id))?.profile, rank)) return true;
    if (stronger((await store.getPending(site, claim.id))?.profile, rank)) return true;
  }
  if (claim.email !== undefined) {
    const user = await store.getUserByEmail(site, claim.email);
    if (user && (await store.externalUsersOf(site, user.id)).some((eu) => stronger(eu.profile, rank))) return true;
  }
  return false;
}

/**
 * Whether an identity proven by user_hash, whose email is unproven, would join the visible user
 * with that email although a stronger source established that email (the rank that set their
 * external users' `email`). Its own external user, if it has one, is its own to speak for.
 */
async function claimsStrongerEmail(store: Store, site: string, identity: Identity, rank: number): Promise<boolean> {
  if (await store.getExternalUser(site, identity.id)) return false;
  const user = await store.getUserByEmail(site, identity.email);
  if (!user) return false;
  return (await store.externalUsersOf(site, user.id)).some((eu) => (eu.profile.v.email?.[0] ?? -1) > rank);
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
