/**
 * Net Promoter Score of a segment (docs/API.md#segments): answers 9-10 are promoters, 7-8
 * passives, 0-6 detractors; the score is the promoters' share minus the detractors', in whole
 * percent (-100 to 100), null without answers. Weeks start on Monday 00:00 UTC. Pure.
 */
import type { NpsWeek } from './store.ts';

const WEEK_MS = 7 * 86_400_000;
/** 1970-01-01 was a Thursday; the first Monday is four days later. */
const FIRST_MONDAY_MS = 4 * 86_400_000;

/** The start of the week (Monday 00:00 UTC) that `ms` falls in. */
export function weekOf(ms: number): number {
  return Math.floor((ms - FIRST_MONDAY_MS) / WEEK_MS) * WEEK_MS + FIRST_MONDAY_MS;
}

export type NpsBucket = 'promoters' | 'passives' | 'detractors';

export function bucketOf(score: number): NpsBucket {
  return score >= 9 ? 'promoters' : score >= 7 ? 'passives' : 'detractors';
}

function scoreOf(c: { promoters: number; passives: number; detractors: number }) {
  const n = c.promoters + c.passives + c.detractors;
  return n === 0 ? null : Math.round((100 * (c.promoters - c.detractors)) / n);
}

/** The `GET /nps` reply from a segment's weeks. */
export function npsReply(weeks: NpsWeek[]) {
  const total = { promoters: 0, passives: 0, detractors: 0 };
  for (const w of weeks) {
    total.promoters += w.promoters;
    total.passives += w.passives;
    total.detractors += w.detractors;
  }
  return {
    score: scoreOf(total),
    ...total,
    responses: total.promoters + total.passives + total.detractors,
    weekly: weeks.map((w) => ({
      week: new Date(w.week).toISOString().slice(0, 10),
      score: scoreOf(w),
      promoters: w.promoters,
      passives: w.passives,
      detractors: w.detractors,
      responses: w.promoters + w.passives + w.detractors,
    })),
  };
}
