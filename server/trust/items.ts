/**
 * How a checked identity is logged and merged (docs/API.md#trust: admin > token > user_hash >
 * unproven where the site ranks sources; one rank in `off` mode, server/trust/ranks.ts). Ranks
 * only ever order versions (server/core/merge.ts), so a weaker source can never overwrite a
 * field a stronger one set; what this module decides is which fields travel at which rank and
 * time, and whether an identity's email is a proven fact or only a claim.
 */
import type { IdentifyItem } from '../core/identify.ts';
import { RANK, type Rank, type Version } from '../core/merge.ts';
import type { Site } from '../core/records.ts';
import type { Checked } from './proof.ts';
import { rankFor } from './ranks.ts';

/**
 * The items one widget identity is applied as. An unproven or user_hash identity is one item at
 * its rank and (skew-corrected) page time. A token identity is two: its claims at token rank and
 * the token's `iat` time — so a replayed older token loses to a newer one — with the page time
 * as tie-break between uses of the same token; and the page's other fields (traits, app version,
 * an account the token does not name) at user_hash rank, because the token proves who the user
 * is, not what the page says about them.
 *
 * Where the site ranks sources, an email without a token is a claim (`email_claim`): it may not
 * attach the id to the visible user who has that email (a user_hash proves the id only).
 */
export function identifyItems(site: Site, checked: Checked, messageId: string, pageTime: number): IdentifyItem[] {
  const claim = site.verification !== 'off' && checked.rank !== RANK.token ? { email_claim: true as const } : {};
  const own: IdentifyItem = {
    message_id: messageId,
    version: [rankFor(site, checked.rank === RANK.token ? RANK.user_hash : checked.rank), pageTime, messageId],
    identity: checked.identity,
    ...claim,
  };
  if (checked.rank !== RANK.token || !checked.claims || checked.issuedAt === undefined) return [own];
  const claims: IdentifyItem = {
    message_id: `${messageId}.claims`,
    version: [rankFor(site, RANK.token), checked.issuedAt, `${String(pageTime).padStart(16, '0')}:${messageId}`],
    identity: checked.claims,
  };
  return [claims, { ...own, message_id: `${messageId}.page` }];
}

/**
 * The version feedback writes its identity at: never above user_hash. The identity travels in
 * full (claims applied), so it must not gain the token's rank for fields the page supplied; the
 * claims themselves reach the token rank through the identify that accompanies them.
 */
export function feedbackVersion(site: Site, checked: Checked | undefined, now: number, messageId: string): Version {
  return [rankFor(site, Math.min(checked?.rank ?? RANK.unproven, RANK.user_hash) as Rank), now, messageId];
}
