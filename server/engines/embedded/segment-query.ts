/**
 * Segments on the memory store (docs/API.md#segments): the feedback, users and accounts of a site
 * that pass core/filters.ts's predicate, and the aggregates over that feedback. The PostgreSQL
 * store answers the same questions in SQL (engines/postgres/filter-sql.ts); the store conformance
 * suite holds both to the same answers.
 */
import {
  emptySegment,
  isEmpty,
  matchesAccount,
  matchesExternalUser,
  matchesFeedback,
  matchesFeedbackFields,
  matchesPerson,
  type Segment,
} from '../../core/filters.ts';
import { bucketOf, weekOf } from '../../core/nps.ts';
import { accountKeysOf, type Account, type ExternalUser, type Feedback } from '../../core/records.ts';
import type { NpsWeek, SegmentIdeaStats, SegmentTotals } from '../../core/store.ts';

/** What the predicate needs to look up, synchronously (the memory store's Maps). */
export interface Lookups {
  externalUser(id: string | null): ExternalUser | undefined;
  account(key: string | null): Account | undefined;
  /** The site's external users, for a person filter tested once on each. */
  externalUsers(): Iterable<ExternalUser>;
  /** The store and site asked, so one walk is shared only by questions about the same feedback
   * (without them nothing is shared). */
  store?: object;
  site?: string;
}

/**
 * A filtered feedback page answers with its total and the segment's totals
 * (docs/API.md#segments): the route asks the store for both at once, with the same `Segment`.
 * The walk over every feedback of the site is what costs, so the first of those calls keeps the
 * feedback that passed, and the others asked in the same synchronous turn reuse it. The memo
 * is dropped at the next microtask: no write can land in between (the memory store does not
 * yield inside a call), and nothing is kept across requests, so no answer is ever stale.
 */
const walked = new WeakMap<Segment, { store: object; site: string; list: Feedback[] }>();

/** The site's feedback in the segment, in the order stored (oldest first). */
export function matchingFeedback(feedback: Iterable<Feedback>, s: Segment, look: Lookups): Feedback[] {
  const memo = walked.get(s);
  if (memo && look.store !== undefined && memo.store === look.store && memo.site === look.site) return memo.list;
  const pass = feedbackFilter(s, look);
  const list: Feedback[] = [];
  for (const f of feedback) if (!pass || pass(f)) list.push(f);
  if (look.store !== undefined && look.site !== undefined) {
    walked.set(s, { store: look.store, site: look.site, list });
    queueMicrotask(() => walked.delete(s));
  }
  return list;
}

export function feedbackFilter(s: Segment | undefined, look: Lookups): ((f: Feedback) => boolean) | undefined {
  if (!s || isEmpty(s)) return undefined;
  // Many feedback share a person and an account: each is tested once per call, not once per
  // feedback. The people who pass are found once, on the first feedback that asks; accounts
  // are cached as met (except "as then", which reads the feedback's own record).
  let people: Set<string> | undefined;
  const passing = () => {
    const ids = new Set<string>();
    for (const eu of look.externalUsers()) if (matchesExternalUser(person, eu)) ids.add(eu.external_id);
    return ids;
  };
  const accounts = new Map<string | null, boolean>();
  const only = (part: Partial<Segment>): Segment => ({ ...emptySegment(), ...part });
  const person = only({ user: s.user });
  const account = only({ account: s.account, mrr: s.mrr, ltv: s.ltv });
  const fields = only({
    kind: s.kind,
    source: s.source,
    createdAfter: s.createdAfter,
    createdBefore: s.createdBefore,
    score: s.score,
  });
  const byPerson = s.user.length > 0;
  const byAccount = s.account.length > 0 || s.mrr !== undefined || s.ltv !== undefined;
  return (f) => {
    if (!matchesFeedbackFields(fields, f)) return false;
    if (byPerson && (f.external_user_id === null || !(people ??= passing()).has(f.external_user_id))) return false;
    if (!byAccount) return true;
    if (s.as === 'then')
      return matchesFeedback(s, f, look.externalUser(f.external_user_id), look.account(f.account_key));
    let ok = accounts.get(f.account_key);
    if (ok === undefined) accounts.set(f.account_key, (ok = matchesAccount(account, look.account(f.account_key))));
    return ok;
  };
}

export function personFilter(
  s: Segment | undefined,
  look: Lookups,
  externals: (userId: string) => ExternalUser[],
): ((userId: string) => boolean) | undefined {
  if (!s || (s.user.length === 0 && s.account.length === 0 && !s.mrr && !s.ltv)) return undefined;
  return (userId) => matchesPerson(s, externals(userId), (eu) => look.account(accountKeysOf(eu)[0] ?? null));
}

export function accountFilter(s: Segment | undefined): ((a: Account) => boolean) | undefined {
  if (!s || (s.account.length === 0 && !s.mrr && !s.ltv)) return undefined;
  return (a) => matchesAccount(s, a);
}

/** Each account once, at its MRR now, or as recorded with its first feedback when it has none now. */
function accountMrr(first: Map<string, number | null>, look: Lookups) {
  let mrr = 0;
  for (const [key, at] of first) {
    const now = look.account(key)?.profile.f.mrr_cents;
    mrr += typeof now === 'number' ? now : (at ?? 0);
  }
  return mrr;
}

export function segmentTotals(feedback: Iterable<Feedback>, s: Segment, look: Lookups): SegmentTotals {
  const list = matchingFeedback(feedback, s, look);
  const first = new Map<string, number | null>();
  for (const f of list) {
    if (f.account_key !== null && !first.has(f.account_key)) first.set(f.account_key, f.mrr_cents_at);
  }
  return { feedback_count: list.length, accounts_count: first.size, mrr_cents: accountMrr(first, look) };
}

export function segmentIdeaStats(
  feedback: Iterable<Feedback>,
  s: Segment,
  look: Lookups,
): Map<string, SegmentIdeaStats> {
  const pass = feedbackFilter(s, look) ?? (() => true);
  const per = new Map<string, { who: Set<string>; first: Map<string, number | null> }>();
  for (const f of feedback) {
    if (f.idea_id === undefined || (f.kind !== 'idea' && f.kind !== 'support') || !pass(f)) continue;
    let i = per.get(f.idea_id);
    if (!i) per.set(f.idea_id, (i = { who: new Set(), first: new Map() }));
    i.who.add(f.user_id ?? `anonymous:${f.id}`);
    if (f.account_key !== null && !i.first.has(f.account_key)) i.first.set(f.account_key, f.mrr_cents_at);
  }
  const out = new Map<string, SegmentIdeaStats>();
  for (const [id, i] of per)
    out.set(id, { supporters_count: i.who.size, accounts_count: i.first.size, mrr_cents: accountMrr(i.first, look) });
  return out;
}

export function npsWeeks(feedback: Iterable<Feedback>, s: Segment, look: Lookups): NpsWeek[] {
  const pass = feedbackFilter(s, look) ?? (() => true);
  const weeks = new Map<number, NpsWeek>();
  for (const f of feedback) {
    if (f.kind !== 'nps' || typeof f.score !== 'number' || !pass(f)) continue;
    const week = weekOf(f.created_at);
    let w = weeks.get(week);
    if (!w) weeks.set(week, (w = { week, promoters: 0, passives: 0, detractors: 0 }));
    w[bucketOf(f.score)]++;
  }
  return [...weeks.values()].sort((a, b) => a.week - b.week);
}
