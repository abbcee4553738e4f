/**
 * Whose feedback is it? An unproven identity is only a claim (docs/API.md#trust): anyone can type
 * someone else's id or email into a page. Once a person's stored fields came from a verified
 * source (user_hash, token or the admin API), feedback that merely claims to be them must not be
 * attributed to them — it is recorded anonymously instead.
 */
import { RANK, type Profile } from '../core/merge.ts';
import type { Store } from '../core/store.ts';

const verified = (p: Profile | undefined) => !!p && Object.values(p.v).some((v) => v[0] > RANK.unproven);

/**
 * Whether the person an unproven claim names (by integrator id, or by email) has fields that a
 * verified source set: in the visible store or still pending.
 */
export async function isVerifiedPerson(
  store: Store,
  site: string,
  claim: { id?: string; email?: string },
): Promise<boolean> {
  if (claim.id !== undefined) {
    if (verified((await store.getExternalUser(site, claim.id))?.profile)) return true;
    if (verified((await store.getPending(site, claim.id))?.profile)) return true;
  }
  if (claim.email !== undefined) {
    const user = await store.getUserByEmail(site, claim.email);
    if (user && (await store.externalUsersOf(site, user.id)).some((eu) => verified(eu.profile))) return true;
  }
  return false;
}
