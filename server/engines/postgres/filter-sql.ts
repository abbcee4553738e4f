/**
 * Segments on PostgreSQL (docs/API.md#segments): core/filters.ts's `Segment` as SQL conditions
 * with parameters, and the aggregates over a segment's feedback as single statements. Field
 * names come from the parser's whitelist and `cf_[a-z0-9_]` keys, and are passed as parameters
 * all the same; values are always parameters. The memory store answers with the predicate in
 * core/filters.ts; the store conformance suite holds both to the same answers.
 *
 * Feedback is filtered through the set of people and the set of accounts that pass (each tested
 * once, as a semi-join: `external_user_id IN (...)`, `account_key IN (...)`), never by a lookup
 * per feedback row. The aggregates read only columns that migration 014 keeps beside `doc`
 * (kind, external user, MRR recorded) through covering indexes, grouped by account, so a
 * segment's exact totals are index-only scans (docs/PERFORMANCE.md#segments).
 */
import type { Range, Segment, TextFilter } from '../../core/filters.ts';
import type { NpsWeek, SegmentIdeaStats, SegmentTotals } from '../../core/store.ts';

/** Adds a parameter, returns its placeholder. */
export type Param = (v: unknown) => string;
type Query = <R extends Record<string, unknown>>(sql: string, params: unknown[]) => Promise<{ rows: R[] }>;

const profile = (alias: string) => `${alias}.doc->'profile'->'f'`;

/** A jsonb number field as float8, NULL when absent or not a number (never a cast error). */
const numberAt = (obj: string, key: string) =>
  `(CASE WHEN jsonb_typeof(${obj}->'${key}') = 'number' THEN (${obj}->>'${key}')::float8 END)`;

function range(expr: string, r: Range | undefined, p: Param): string[] {
  if (!r) return [];
  const out = [`${expr} IS NOT NULL`];
  if (r.gte !== undefined) out.push(`${expr} >= ${p(r.gte)}`);
  if (r.lte !== undefined) out.push(`${expr} <= ${p(r.lte)}`);
  return out;
}

function texts(f: string, filters: TextFilter[], p: Param): string[] {
  return filters.map((t) => {
    const values = p(t.values);
    if (t.field === 'tags') return `(jsonb_typeof(${f}->'tags') = 'array' AND ${f}->'tags' ?| ${values}::text[])`;
    if (t.field === 'country')
      return `(jsonb_typeof(${f}->'location'->'country') = 'string' AND ${f}->'location'->>'country' = ANY(${values}::text[]))`;
    const key = p(t.field);
    // Scalars compare as their text, as the predicate's String(v); objects and arrays never match.
    return `(jsonb_typeof(${f}->${key}::text) IN ('string', 'number', 'boolean') AND ${f}->>${key}::text = ANY(${values}::text[]))`;
  });
}

const hasAccountFields = (s: Segment) => s.account.length > 0 || Boolean(s.ltv);

/** Conditions on an account row `a` (its MRR now unless `withMrr` is false). */
function accountConds(s: Segment, a: string, p: Param, withMrr = true): string[] {
  const f = profile(a);
  return [
    ...texts(f, s.account, p),
    ...(withMrr ? range(numberAt(f, 'mrr_cents'), s.mrr, p) : []),
    ...range(numberAt(f, 'ltv_cents'), s.ltv, p),
  ];
}

/**
 * The people (`person_terms`) or accounts (`account_terms`) holding one of a text filter's values,
 * through migration 016's terms: `<field>=<value>` for exactly the values the filter's condition
 * on the document accepts (texts() above), so no document is read.
 */
function termSet(t: TextFilter, table: 'person_terms' | 'account_terms', p: Param, alias = 't'): string {
  const id = table === 'person_terms' ? 'external_id' : 'key';
  return `SELECT ${alias}.${id} FROM ${table} ${alias} WHERE ${alias}.site = $1 AND ${alias}.term = ANY(${p(t.values.map((v) => `${t.field}=${v}`))}::text[])`;
}

/** Those holding a value of each filter: the first filter's set, narrowed by the others'. */
function intersection(filters: TextFilter[], table: 'person_terms' | 'account_terms', p: Param): string {
  const id = table === 'person_terms' ? 'external_id' : 'key';
  const [first, ...rest] = filters;
  return [termSet(first, table, p), ...rest.map((t, i) => `t.${id} IN (${termSet(t, table, p, `t${i + 1}`)})`)].join(
    ' AND ',
  );
}

/**
 * An account's MRR or LTV in a range, on the column the store keeps beside the document (the
 * document's number, 0 when it has none; engines/postgres/rows.ts), so the planner knows how many
 * pass. When 0 is in the range the document must also hold a number.
 */
function columnRange(a: string, col: 'mrr_cents' | 'ltv_cents', r: Range | undefined, p: Param): string[] {
  if (!r) return [];
  const out: string[] = [];
  if (r.gte !== undefined) out.push(`${a}.${col} >= ${p(r.gte)}`);
  if (r.lte !== undefined) out.push(`${a}.${col} <= ${p(r.lte)}`);
  if ((r.gte === undefined || r.gte <= 0) && (r.lte === undefined || r.lte >= 0))
    out.push(`jsonb_typeof(${profile(a)}->'${col}') = 'number'`);
  return out;
}

/**
 * Conditions on a feedback row named `fb` (a table name or alias); the site is parameter $1 (every
 * caller passes it first). Person and account filters are semi-joins on the sets that pass:
 * terms (migration 016) for text filters, the MRR/LTV columns for ranges. PostgreSQL knows how
 * many people and accounts each term has, so for a page it walks feedback newest first and
 * probes the terms' primary key per row until the page is full, and for the aggregates it joins
 * the sets with migration 014's covering indexes.
 */
export function feedbackConds(s: Segment | undefined, fb: string, p: Param): string[] {
  if (!s) return [];
  const out: string[] = [];
  if (s.kind) out.push(`${fb}.kind = ANY(${p(s.kind)}::text[])`);
  if (s.source) out.push(`${fb}.doc->>'source' = ANY(${p(s.source)}::text[])`);
  // created_at, score: migration 014's columns (the document's numbers, score NULL when not one).
  if (s.createdAfter !== undefined) out.push(`${fb}.created_at > ${p(s.createdAfter)}`);
  if (s.createdBefore !== undefined) out.push(`${fb}.created_at < ${p(s.createdBefore)}`);
  out.push(...range(`${fb}.score`, s.score, p));
  // One set of people and one of accounts, each filter narrowing it, so the planner joins the
  // feedback with the intersection (it cannot know that region and plan are independent).
  if (s.user.length > 0) out.push(`${fb}.external_user_id IN (${intersection(s.user, 'person_terms', p)})`);
  const then = s.as === 'then';
  let text = s.account;
  if (then) {
    // The MRR recorded with the feedback (migration 014's column: the document's number, else NULL).
    out.push(...range(`${fb}.mrr_at`, s.mrr, p));
    // The plan as recorded with the feedback; feedback from before plans were kept, by the plan now.
    const plan = s.account.filter((t) => t.field === 'plan');
    if (plan.length > 0) {
      out.push(
        `(CASE WHEN ${fb}.doc ? 'plan_at' THEN coalesce(${fb}.doc->>'plan_at' = ANY(${p(plan[0].values)}::text[]), false) ELSE ${fb}.account_key IN (${termSet(plan[0], 'account_terms', p)}) END)`,
      );
      text = s.account.filter((t) => t.field !== 'plan');
    }
  }
  const ranges = [...(then ? [] : columnRange('a', 'mrr_cents', s.mrr, p)), ...columnRange('a', 'ltv_cents', s.ltv, p)];
  if (ranges.length > 0)
    out.push(
      `${fb}.account_key IN (SELECT a.key FROM accounts a WHERE a.site = $1 AND ${[...text.map((t, i) => `a.key IN (${termSet(t, 'account_terms', p, `t${i}`)})`), ...ranges].join(' AND ')})`,
    );
  else if (text.length > 0) out.push(`${fb}.account_key IN (${intersection(text, 'account_terms', p)})`);
  return out;
}

/** Conditions on a user row `u`: one of their external users, with its account, is in the segment. */
export function userConds(s: Segment | undefined, u: string, p: Param): string[] {
  if (!s || (s.user.length === 0 && !hasAccountFields(s) && !s.mrr)) return [];
  const conds = [...texts(profile('e'), s.user, p)];
  const acc = accountConds(s, 'a', p);
  const join = acc.length > 0 ? ' JOIN accounts a ON a.site = e.site AND a.key = e.account_key' : '';
  return [
    `EXISTS (SELECT 1 FROM external_users e${join} WHERE e.site = ${u}.site AND e.user_id = ${u}.id${[...conds, ...acc].map((c) => ` AND ${c}`).join('')})`,
  ];
}

/** Conditions on an account row named `a`. */
export function accountRowConds(s: Segment | undefined, a: string, p: Param): string[] {
  return s ? accountConds(s, a, p) : [];
}

function params(site: string): [unknown[], Param] {
  const list: unknown[] = [site];
  return [list, (v) => `$${list.push(v)}`];
}

/**
 * A filtered page answers with its exact total and the segment's totals (docs/API.md#segments),
 * asked of the store together with the same `Segment`. Both read every matching row, so the
 * totals statement (whose `feedback_count` is the page's total) runs once for both: the first
 * caller starts it and the other, asking in the same synchronous turn, awaits the same promise.
 * Forgotten at the next microtask, so nothing is shared across requests.
 */
const inFlight = new WeakMap<Segment, { key: object; site: string; totals: Promise<SegmentTotals> }>();

export function sharedTotals(key: object, query: Query, site: string, s: Segment): Promise<SegmentTotals> {
  const hit = inFlight.get(s);
  if (hit && hit.key === key && hit.site === site) return hit.totals;
  const totals = segmentTotals(query, site, s);
  inFlight.set(s, { key, site, totals });
  queueMicrotask(() => inFlight.delete(s));
  return totals;
}

/**
 * The segment's feedback grouped by account (a hash aggregate over the covering index), then each
 * account once: its MRR now, else the MRR recorded with its first feedback in the segment, read
 * by position only for accounts without MRR now.
 */
export async function segmentTotals(query: Query, site: string, s: Segment): Promise<SegmentTotals> {
  const [list, p] = params(site);
  const where = ['f.site = $1', ...feedbackConds(s, 'f', p)].join(' AND ');
  const { rows } = await query<{ n: string | null; accounts: string; mrr: number | null }>(
    `WITH g AS (SELECT f.account_key, count(*) AS n, min(f.pos) AS first FROM feedback f WHERE ${where} GROUP BY f.account_key)
    SELECT sum(g.n) AS n, count(g.account_key) AS accounts, sum(${accountMrr('g')}) AS mrr FROM g`,
    list,
  );
  const r = rows[0];
  return { feedback_count: Number(r.n ?? 0), accounts_count: Number(r.accounts), mrr_cents: Number(r.mrr ?? 0) };
}

/**
 * An account counted once (`g.account_key`; `g.first`, the position of its first feedback in the
 * segment): its MRR now, else the MRR recorded with that feedback, else 0; NULL for no account.
 * Each read by key, only for the accounts counted.
 */
const accountMrr = (g: string) =>
  `CASE WHEN ${g}.account_key IS NOT NULL THEN coalesce(
    (SELECT ${numberAt(profile('a'), 'mrr_cents')} FROM accounts a WHERE a.site = $1 AND a.key = ${g}.account_key),
    (SELECT x.mrr_at FROM feedback x WHERE x.site = $1 AND x.pos = ${g}.first), 0) END`;

export async function segmentIdeaStats(query: Query, site: string, s: Segment): Promise<Map<string, SegmentIdeaStats>> {
  const [list, p] = params(site);
  const where = [
    'f.site = $1',
    'f.idea_id IS NOT NULL',
    `f.kind IN ('idea', 'support')`,
    ...feedbackConds(s, 'f', p),
  ].join(' AND ');
  // m: the segment's support (index-only through migration 014's covering indexes; an anonymous
  // supporter's feedback id alone is read from its row); per idea, its distinct supporters, and
  // each account once with its MRR (as segmentTotals).
  const { rows } = await query<{ idea_id: string; supporters: string; accounts: string | null; mrr: number | null }>(
    `WITH m AS MATERIALIZED (SELECT f.idea_id, coalesce(f.user_id, 'anonymous:' || (SELECT x.id FROM feedback x WHERE x.site = $1 AND x.pos = f.pos)) AS who, f.account_key, f.pos
        FROM feedback f WHERE ${where}),
      g AS (SELECT idea_id, account_key, min(pos) AS first FROM m WHERE account_key IS NOT NULL GROUP BY idea_id, account_key),
      am AS (SELECT g.idea_id, count(*) AS accounts, sum(${accountMrr('g')}) AS mrr FROM g GROUP BY g.idea_id)
    SELECT s.idea_id, s.supporters, am.accounts, am.mrr
    FROM (SELECT idea_id, count(DISTINCT who) AS supporters FROM m GROUP BY idea_id) s LEFT JOIN am USING (idea_id)`,
    list,
  );
  return new Map(
    rows.map((r) => [
      r.idea_id,
      {
        supporters_count: Number(r.supporters),
        accounts_count: Number(r.accounts ?? 0),
        mrr_cents: Number(r.mrr ?? 0),
      },
    ]),
  );
}

const WEEK_MS = 7 * 86_400_000;
const FIRST_MONDAY_MS = 4 * 86_400_000;

export async function npsWeeks(query: Query, site: string, s: Segment): Promise<NpsWeek[]> {
  const [list, p] = params(site);
  const where = ['f.site = $1', `f.kind = 'nps'`, ...feedbackConds(s, 'f', p)].join(' AND ');
  const score = 'f.score';
  const { rows } = await query<{ w: string; p: string; n: string; d: string }>(
    `SELECT floor((f.created_at - ${FIRST_MONDAY_MS}) / ${WEEK_MS}) AS w,
      count(*) FILTER (WHERE ${score} >= 9) AS p,
      count(*) FILTER (WHERE ${score} >= 7 AND ${score} < 9) AS n,
      count(*) FILTER (WHERE ${score} < 7) AS d
    FROM feedback f WHERE ${where} AND ${score} IS NOT NULL GROUP BY 1 ORDER BY 1`,
    list,
  );
  return rows.map((r) => ({
    week: Number(r.w) * WEEK_MS + FIRST_MONDAY_MS,
    promoters: Number(r.p),
    passives: Number(r.n),
    detractors: Number(r.d),
  }));
}
