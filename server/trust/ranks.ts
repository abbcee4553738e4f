/**
 * The rank an update is written at (docs/API.md#trust) is decided once, when it is accepted, from
 * the site's verification mode, and travels in its version (server/core/merge.ts):
 *
 * - `optional` / `required`: sources rank admin API > token > user_hash > unproven.
 * - `off`: the site believes its pages, so every source writes at the lowest rank and the
 *   newest update wins, whatever its source. What `off` mode stored stays overwritable by
 *   proven sources after a switch to `optional`.
 *
 * A rank is `era × ERA + source rank`. A site enters a new era each time it switches to `off`
 * from a mode that ranks sources, so that everything written from then on outranks everything
 * written before — a field a proven source set while ranks applied must not outlive the switch
 * as one that no update in `off` mode can change. A site that never recorded an era and is in
 * `off` mode is in era 1: what it stored before ranks were decided by mode (admin-ranked fields
 * included) is era 0, and the newest update wins over it too.
 */
import { RANK, type Rank } from '../core/merge.ts';
import type { Site, Verification } from '../core/records.ts';

/** Ranks per era: larger than every source rank. */
export const ERA = 10;

/** The site's current era. */
export function eraOf(site: Pick<Site, 'verification' | 'rank_era'>): number {
  return site.rank_era ?? (site.verification === 'off' ? 1 : 0);
}

/** The rank an update from `source` is written at on `site` now. */
export function rankFor(site: Pick<Site, 'verification' | 'rank_era'>, source: Rank): number {
  return eraOf(site) * ERA + (site.verification === 'off' ? RANK.unproven : source);
}

/** The source rank inside a written rank. */
export function sourceOf(rank: number): number {
  return rank % ERA;
}

/** The era a site is in after switching to `next`: a new one when it stops ranking sources. */
export function eraAfter(site: Pick<Site, 'verification' | 'rank_era'>, next: Verification): number {
  return eraOf(site) + (site.verification !== 'off' && next === 'off' ? 1 : 0);
}
