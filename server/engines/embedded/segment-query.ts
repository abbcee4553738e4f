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
  /** The site's feedback as the store indexes it (FeedbackIndex); without it every walk reads `feedback`. */
  index?: SiteFeedback;
}

/**
 * The feedback of the memory store, indexed for segments (docs/PERFORMANCE.md#segments). A filter
 * on people or accounts is decided once per person and per account, not once per feedback: the
 * store keeps, per site, its feedback in stored order as entries that point at one object per
 * external user and one per account ("buckets"). A question marks the buckets that pass, then
 * sweeps the entries comparing pointers. Reading each feedback's ids through a Map instead
 * costs a string hash and a few cache misses per feedback, which at 200k feedback was most of
 * a filtered page's time. The store calls `put` on every write of a feedback record, including
 * in-place changes of its external user or account (detach), so an entry's buckets are always
 * its record's.
 */
export class FeedbackIndex {
  private readonly sites = new Map<string, SiteFeedback>();

  /** Adds or replaces the record stored under `key` (a replaced record keeps its place, as in a Map). */
  put(key: string, f: Feedback): void {
    let site = this.sites.get(f.site);
    if (!site) this.sites.set(f.site, (site = new SiteFeedback()));
    site.put(key, f);
  }

  /** The external user stored under this id now (null: deleted); every write of one calls this. */
  person(site: string, externalId: string, eu: ExternalUser | null): void {
    let s = this.sites.get(site);
    if (!s) this.sites.set(site, (s = new SiteFeedback()));
    const b = bucketFor(s.people, externalId)!;
    b.eu = eu;
  }

  /**
   * The site's index. `count` is the store's own count of the site's feedback, checked so that a
   * write that bypassed `put` is never answered from a stale index: it is rebuilt instead (not
   * expected: every write goes through `put`).
   */
  of(
    site: string,
    count: number,
    rebuild: () => { feedback: Iterable<[string, Feedback]>; externalUsers: Iterable<ExternalUser> },
  ): SiteFeedback {
    const s = this.sites.get(site);
    if (s ? s.entries.length === count : count === 0) return s ?? new SiteFeedback();
    this.sites.delete(site);
    const from = rebuild();
    for (const eu of from.externalUsers) this.person(site, eu.external_id, eu);
    for (const [key, f] of from.feedback) this.put(key, f);
    return this.sites.get(site) ?? new SiteFeedback();
  }
}

/** One external user or one account, as the entries of its feedback point at it. */
interface Bucket {
  key: string;
  /** Equal to the question's stamp when it passes the question's filters. */
  mark: number;
  /** Equal to the question's stamp once an aggregate has counted it. */
  seen: number;
  /** People only: the external user stored under `key` now (kept by the store's writes). */
  eu?: ExternalUser | null;
}

interface Entry {
  f: Feedback;
  person: Bucket | null;
  account: Bucket | null;
}

export class SiteFeedback {
  /** Every feedback of the site, in stored order (oldest first). */
  readonly entries: Entry[] = [];
  private readonly byKey = new Map<string, Entry>();
  readonly people = new Map<string, Bucket>();
  readonly accounts = new Map<string, Bucket>();

  put(key: string, f: Feedback) {
    let e = this.byKey.get(key);
    if (!e) {
      e = { f, person: null, account: null };
      this.byKey.set(key, e);
      this.entries.push(e);
    }
    e.f = f;
    e.person = bucketFor(this.people, f.external_user_id);
    e.account = bucketFor(this.accounts, f.account_key);
  }
}

function bucketFor(map: Map<string, Bucket>, key: string | null): Bucket | null {
  if (key === null) return null;
  let b = map.get(key);
  if (!b) map.set(key, (b = { key, mark: 0, seen: 0 }));
  return b;
}

/** Questions are synchronous, so one counter tells this question's marks from older ones. */
let stamp = 0;

/**
 * The entries of the site's feedback in the segment, in stored order: buckets marked first
 * (people and accounts tested once each), then one sweep. "As then" reads the plan and MRR
 * recorded with each feedback, so its account filters stay per feedback (the predicate).
 */
function sweep(index: SiteFeedback, s: Segment, look: Lookups, only?: (f: Feedback) => boolean): Entry[] {
  const now = ++stamp;
  const byPerson = s.user.length > 0;
  const byAccount = (s.account.length > 0 || s.mrr !== undefined || s.ltv !== undefined) && s.as !== 'then';
  const then = s.as === 'then' && !byAccount ? feedbackFilter({ ...s, user: [] }, look) : undefined;
  const fields = isEmpty({ ...s, user: [], account: [], mrr: undefined, ltv: undefined, as: 'now' })
    ? undefined
    : (f: Feedback) => matchesFeedbackFields(s, f);
  if (byPerson) {
    // Through the buckets' own pointers: looking each passing person's bucket up by id cost
    // more than testing them all.
    const person = { ...emptySegment(), user: s.user };
    for (const b of index.people.values()) if (b.eu && matchesExternalUser(person, b.eu)) b.mark = now;
  }
  if (byAccount) {
    const account = { ...emptySegment(), account: s.account, mrr: s.mrr, ltv: s.ltv };
    for (const b of index.accounts.values()) if (matchesAccount(account, look.account(b.key))) b.mark = now;
  }
  const out: Entry[] = [];
  for (const e of index.entries) {
    if (byPerson && (e.person === null || e.person.mark !== now)) continue;
    if (byAccount && (e.account === null || e.account.mark !== now)) continue;
    if (only && !only(e.f)) continue;
    if (then ? !then(e.f) : fields && !fields(e.f)) continue;
    out.push(e);
  }
  return out;
}

/**
 * A filtered feedback page answers with its total and the segment's totals
 * (docs/API.md#segments): the route asks the store for both at once, with the same `Segment`.
 * Finding the feedback that passed is what costs, so the first of those calls keeps it, and the
 * others asked in the same synchronous turn reuse it. The memo is dropped at the next
 * microtask: no write can land in between (the memory store does not yield inside a call), and
 * nothing is kept across requests, so no answer is ever stale.
 */
const walked = new WeakMap<Segment, { store: object; site: string; walk: Walk }>();

/** The feedback in a segment, and their index entries when the store has an index. */
interface Walk {
  list: Feedback[];
  entries?: Entry[];
}

function walk(feedback: Iterable<Feedback>, s: Segment, look: Lookups): Walk {
  const memo = walked.get(s);
  if (memo && look.store !== undefined && memo.store === look.store && memo.site === look.site) return memo.walk;
  let w: Walk;
  if (look.index) {
    const entries = sweep(look.index, s, look);
    w = { list: entries.map((e) => e.f), entries };
  } else {
    const pass = feedbackFilter(s, look);
    const list: Feedback[] = [];
    for (const f of feedback) if (!pass || pass(f)) list.push(f);
    w = { list };
  }
  if (look.store !== undefined && look.site !== undefined) {
    walked.set(s, { store: look.store, site: look.site, walk: w });
    queueMicrotask(() => walked.delete(s));
  }
  return w;
}

/** The site's feedback in the segment, in the order stored (oldest first). */
export function matchingFeedback(feedback: Iterable<Feedback>, s: Segment, look: Lookups): Feedback[] {
  return walk(feedback, s, look).list;
}

/** The feedback passing the segment and `only`, in stored order: swept through the index when there is one. */
function passing(feedback: Iterable<Feedback>, s: Segment, look: Lookups, only: (f: Feedback) => boolean): Feedback[] {
  if (look.index) return sweep(look.index, s, look, only).map((e) => e.f);
  const pass = feedbackFilter(s, look) ?? (() => true);
  const out: Feedback[] = [];
  for (const f of feedback) if (only(f) && pass(f)) out.push(f);
  return out;
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
  const { list, entries } = walk(feedback, s, look);
  const first = new Map<string, number | null>();
  if (entries) {
    // Each account once through its bucket: no string hashing per feedback.
    const now = ++stamp;
    for (const e of entries) {
      const b = e.account;
      if (b === null || b.seen === now) continue;
      b.seen = now;
      first.set(b.key, e.f.mrr_cents_at);
    }
  } else {
    for (const f of list) {
      if (f.account_key !== null && !first.has(f.account_key)) first.set(f.account_key, f.mrr_cents_at);
    }
  }
  return { feedback_count: list.length, accounts_count: first.size, mrr_cents: accountMrr(first, look) };
}

const isSupport = (f: Feedback) => f.idea_id !== undefined && (f.kind === 'idea' || f.kind === 'support');
const isNps = (f: Feedback) => f.kind === 'nps' && typeof f.score === 'number';

export function segmentIdeaStats(
  feedback: Iterable<Feedback>,
  s: Segment,
  look: Lookups,
): Map<string, SegmentIdeaStats> {
  const per = new Map<string, { who: Set<string>; first: Map<string, number | null> }>();
  for (const f of passing(feedback, s, look, isSupport)) {
    let i = per.get(f.idea_id!);
    if (!i) per.set(f.idea_id!, (i = { who: new Set(), first: new Map() }));
    i.who.add(f.user_id ?? `anonymous:${f.id}`);
    if (f.account_key !== null && !i.first.has(f.account_key)) i.first.set(f.account_key, f.mrr_cents_at);
  }
  const out = new Map<string, SegmentIdeaStats>();
  for (const [id, i] of per)
    out.set(id, { supporters_count: i.who.size, accounts_count: i.first.size, mrr_cents: accountMrr(i.first, look) });
  return out;
}

export function npsWeeks(feedback: Iterable<Feedback>, s: Segment, look: Lookups): NpsWeek[] {
  const weeks = new Map<number, NpsWeek>();
  for (const f of passing(feedback, s, look, isNps)) {
    const week = weekOf(f.created_at);
    let w = weeks.get(week);
    if (!w) weeks.set(week, (w = { week, promoters: 0, passives: 0, detractors: 0 }));
    w[bucketOf(f.score!)]++;
  }
  return [...weeks.values()].sort((a, b) => a.week - b.week);
}
