/**
 * Segments on PostgreSQL (docs/API.md#segments): core/filters.ts's `Segment` as SQL conditions
 * with parameters, and the aggregates over a segment's feedback as single statements. Field
 * names come from the parser's whitelist and `cf_[a-z0-9_]` keys, and are passed as parameters
 * all the same; values are always parameters. The memory store answers with the predicate in
 * core/filters.ts; the store conformance suite holds both to the same answers.
 *
 * Profile fields live only in `doc`, so a filter on them reads `doc` of the rows the page's
 * order walks (feedback newest first through feedback_site_pos) and stops at a page of matches;
 * the external user and account of a feedback row are found through their primary keys.
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

/** Conditions on a feedback row named `fb` (a table name or alias). */
export function feedbackConds(s: Segment | undefined, fb: string, p: Param): string[] {
  if (!s) return [];
  const out: string[] = [];
  if (s.kind) out.push(`${fb}.doc->>'kind' = ANY(${p(s.kind)}::text[])`);
  if (s.source) out.push(`${fb}.doc->>'source' = ANY(${p(s.source)}::text[])`);
  if (s.createdAfter !== undefined) out.push(`(${fb}.doc->>'created_at')::float8 > ${p(s.createdAfter)}`);
  if (s.createdBefore !== undefined) out.push(`(${fb}.doc->>'created_at')::float8 < ${p(s.createdBefore)}`);
  out.push(...range(numberAt(`${fb}.doc`, 'score'), s.score, p));
  if (s.user.length > 0)
    out.push(
      `EXISTS (SELECT 1 FROM external_users e WHERE e.site = ${fb}.site AND e.external_id = ${fb}.doc->>'external_user_id' AND ${texts(profile('e'), s.user, p).join(' AND ')})`,
    );
  const then = s.as === 'then';
  const accountAt = (conds: string[]) =>
    `EXISTS (SELECT 1 FROM accounts a WHERE a.site = ${fb}.site AND a.key = ${fb}.account_key AND ${conds.join(' AND ')})`;
  let rest = s;
  if (then) {
    out.push(...range(numberAt(`${fb}.doc`, 'mrr_cents_at'), s.mrr, p));
    // The plan as recorded with the feedback; feedback from before plans were kept, by the plan now.
    const plan = s.account.filter((t) => t.field === 'plan');
    if (plan.length > 0) {
      out.push(
        `(CASE WHEN ${fb}.doc ? 'plan_at' THEN coalesce(${fb}.doc->>'plan_at' = ANY(${p(plan[0].values)}::text[]), false) ELSE ${accountAt(texts(profile('a'), plan, p))} END)`,
      );
      rest = { ...s, account: s.account.filter((t) => t.field !== 'plan') };
    }
  }
  const conds = accountConds(rest, 'a', p, !then);
  if (conds.length > 0) out.push(accountAt(conds));
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

/** Each account once, at its MRR now, else as recorded with its first feedback (as segment-query.ts). */
const ACCOUNT_MRR = `coalesce(${numberAt(profile('a'), 'mrr_cents')}, d.mrr_at, 0)`;

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

export async function segmentTotals(query: Query, site: string, s: Segment): Promise<SegmentTotals> {
  const [list, p] = params(site);
  const where = ['f.site = $1', ...feedbackConds(s, 'f', p)].join(' AND ');
  const { rows } = await query<{ n: string; accounts: string; mrr: number | null }>(
    `WITH m AS (SELECT f.account_key, f.pos, ${numberAt('f.doc', 'mrr_cents_at')} AS mrr_at FROM feedback f WHERE ${where}),
      d AS (SELECT DISTINCT ON (account_key) account_key, mrr_at FROM m WHERE account_key IS NOT NULL ORDER BY account_key, pos)
    SELECT (SELECT count(*) FROM m) AS n, count(d.account_key) AS accounts, sum(${ACCOUNT_MRR}) AS mrr
    FROM d LEFT JOIN accounts a ON a.site = $1 AND a.key = d.account_key`,
    list,
  );
  const r = rows[0];
  return { feedback_count: Number(r.n), accounts_count: Number(r.accounts), mrr_cents: Number(r.mrr ?? 0) };
}

export async function segmentIdeaStats(query: Query, site: string, s: Segment): Promise<Map<string, SegmentIdeaStats>> {
  const [list, p] = params(site);
  const where = [
    'f.site = $1',
    'f.idea_id IS NOT NULL',
    `f.doc->>'kind' IN ('idea', 'support')`,
    ...feedbackConds(s, 'f', p),
  ].join(' AND ');
  const { rows } = await query<{ idea_id: string; supporters: string; accounts: string | null; mrr: number | null }>(
    `WITH m AS (SELECT f.idea_id, coalesce(f.user_id, 'anonymous:' || f.id) AS who, f.account_key, f.pos,
        ${numberAt('f.doc', 'mrr_cents_at')} AS mrr_at FROM feedback f WHERE ${where}),
      d AS (SELECT DISTINCT ON (idea_id, account_key) idea_id, account_key, mrr_at FROM m
        WHERE account_key IS NOT NULL ORDER BY idea_id, account_key, pos),
      am AS (SELECT d.idea_id, count(*) AS accounts, sum(${ACCOUNT_MRR}) AS mrr
        FROM d LEFT JOIN accounts a ON a.site = $1 AND a.key = d.account_key GROUP BY d.idea_id)
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
  const where = ['f.site = $1', `f.doc->>'kind' = 'nps'`, ...feedbackConds(s, 'f', p)].join(' AND ');
  const score = numberAt('f.doc', 'score');
  const { rows } = await query<{ w: string; p: string; n: string; d: string }>(
    `SELECT floor(((f.doc->>'created_at')::float8 - ${FIRST_MONDAY_MS}) / ${WEEK_MS}) AS w,
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
