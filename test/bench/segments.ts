/**
 * Segments (docs/API.md#segments, issue 17): what a filtered admin list costs.
 *
 * - Embedded: the memory store (what the embedded engine lists from) at 100k users / 200k
 *   feedback, written with the store's own put methods; a filtered feedback page as
 *   `GET /feedback` answers it (the page, its total and the segment's totals), ideas ranked
 *   within a segment, NPS. Target: a filtered page ≤ 100 ms.
 * - PostgreSQL (when DATABASE_URL is set): pg-seed.ts's users, external users and accounts, plus
 *   one feedback row per external user and 200 ideas, inserted in SQL; the same questions.
 *   Target: a filtered feedback page or a segment's idea ranking ≤ 300 ms at 1M / 1M.
 *
 * Medians of a few runs after one warm-up. Sizes: BENCH_SEGMENTS_USERS (embedded, default 100k),
 * BENCH_SEGMENTS_PG_USERS (default 1M). Alone:
 * `DATABASE_URL=postgres://postgres@127.0.0.1:5432/test BENCH_ONLY=segments npx tsx test/bench/run.ts`.
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { parseSegment, type Segment } from '../../server/core/filters.ts';
import type { Account, ExternalUser, Feedback, User } from '../../server/core/records.ts';
import type { Store } from '../../server/core/store.ts';
import { MemoryStore } from '../../server/engines/embedded/memory-store.ts';
import { PostgresStore } from '../../server/engines/postgres/store.ts';
import { LIST_PARAMS } from '../../server/http/listing.ts';
import { PG_SITE, seedPostgres } from './pg-seed.ts';

const KINDS = ['idea', 'support', 'comment', 'nps'] as const;
const PLANS = ['Starter', 'Team', 'Enterprise'];
const REGIONS = ['EU', 'US', 'APAC'];

export interface SegmentTiming {
  engine: string;
  users: number;
  feedback: number;
  question: string;
  median_ms: number;
  matches: number;
}

export interface SegmentsResult {
  timings: SegmentTiming[];
  load_average: number[];
  pg_seed_s?: number;
  pg_indexes?: string[];
}

const seg = (query: Record<string, string | string[]>): Segment =>
  parseSegment(query, ['user', 'account', 'feedback'], LIST_PARAMS.feedback);

/** The segments asked: a common one (EU Enterprise) and a narrow one (promoters in APAC on Starter). */
export const QUESTIONS: [string, Segment][] = [
  ['account.cf_region=EU&account.plan=Enterprise', seg({ 'account.cf_region': 'EU', 'account.plan': 'Enterprise' })],
  [
    'kind=nps&score_gte=9&account.plan=Starter&account.cf_region=APAC',
    seg({ kind: 'nps', score_gte: '9', 'account.plan': 'Starter', 'account.cf_region': 'APAC' }),
  ],
  [
    'cf_persona=developer&account.mrr_cents_gte=50000',
    seg({ cf_persona: 'developer', 'account.mrr_cents_gte': '50000' }),
  ],
];

async function median(fn: () => Promise<unknown>, runs = 5): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return +times[Math.floor(runs / 2)].toFixed(1);
}

/** The questions a console asks of a segment, timed on one store. */
async function ask(engine: string, store: Store, site: string, users: number, feedback: number) {
  const out: SegmentTiming[] = [];
  const row = (question: string, median_ms: number, matches: number) =>
    out.push({ engine, users, feedback, question, median_ms, matches });
  for (const [name, segment] of QUESTIONS) {
    let total = 0;
    // What GET /feedback does for a filtered page: the page with its total, and the totals behind it.
    row(
      `feedback page: ${name}`,
      await median(async () => {
        const [page] = await Promise.all([
          store.listFeedback(site, { page: 1, perPage: 20, segment }),
          store.segmentTotals(site, segment),
        ]);
        total = page.total;
      }),
      total,
    );
    let ideas = 0;
    row(
      `ideas ranking: ${name}`,
      await median(async () => {
        ideas = (await store.segmentIdeaStats(site, segment)).size;
      }),
      ideas,
    );
  }
  let responses = 0;
  row(
    'nps: account.cf_region=EU',
    await median(async () => {
      const weeks = await store.npsWeeks(site, seg({ 'account.cf_region': 'EU' }));
      responses = weeks.reduce((n, w) => n + w.promoters + w.passives + w.detractors, 0);
    }),
    responses,
  );
  row('feedback page, no filter', await median(() => store.listFeedback(site, { page: 1, perPage: 20 })), feedback);
  return out;
}

const profile = (f: Record<string, unknown>) => ({ f, v: {} });

export async function embeddedSegments(users: number): Promise<SegmentTiming[]> {
  const { store, site, feedback } = await seedEmbedded(users);
  return ask('embedded (memory)', store, site, users, feedback);
}

/** A memory store with `users` users on users/20 accounts and 2×users feedback, as the bench asks it. */
export async function seedEmbedded(users: number): Promise<{ store: MemoryStore; site: string; feedback: number }> {
  const store = new MemoryStore();
  const site = 'bench';
  const accounts = Math.max(1, Math.floor(users / 20));
  const t0 = Date.UTC(2025, 0, 1);
  for (let a = 0; a < accounts; a++) {
    const account: Account = {
      site,
      key: `acct-${a}`,
      external_id: `acct-${a}`,
      profile: profile({
        plan: PLANS[a % 3],
        cf_region: REGIONS[Math.floor(a / 3) % 3],
        mrr_cents: (a % 1000) * 100,
        ltv_cents: (a % 1000) * 1200,
      }),
      created_at: t0,
      updated_at: t0,
    };
    await store.putAccount(account);
  }
  for (let i = 0; i < users; i++) {
    const user: User = { site, id: `u${i}`, email: `p${i}@bench.test`, created_at: t0 + i, updated_at: t0 + i };
    const eu: ExternalUser = {
      site,
      external_id: `e${i}`,
      user_id: user.id,
      profile: profile({
        email: user.email,
        type: i % 3 ? 'Member' : 'Owner',
        cf_persona: i % 2 ? 'manager' : 'developer',
        app_version: `4.${i % 5}.0`,
        location: { country: ['DE', 'US', 'FR', 'JP'][i % 4] },
        account: `acct-${i % accounts}`,
      }),
      created_at: t0 + i,
      updated_at: t0 + i,
    };
    await store.putUser(user);
    await store.putExternalUser(eu);
  }
  const n = users * 2;
  for (let i = 0; i < n; i++) {
    const who = (i * 7919) % users;
    const kind = KINDS[i % 4];
    const f: Feedback = {
      site,
      id: `f${i}`,
      message_id: `m${i}`,
      kind,
      ...(kind === 'idea' || kind === 'support' ? { idea_id: `idea-${i % 200}` } : {}),
      ...(kind === 'nps' ? { score: i % 11 } : {}),
      body: 'x',
      user_id: `u${who}`,
      external_user_id: `e${who}`,
      account_key: `acct-${who % accounts}`,
      mrr_cents_at: (who % 1000) * 100,
      created_at: t0 + i * 60_000,
    };
    await store.putFeedback(f, i < 200 ? { site, id: `idea-${i}`, title: `Idea ${i}`, created_at: t0 } : null);
  }
  return { store, site, feedback: n };
}

/** What segments are indexed by (migrations 010, 014, 016); the figures depend on them. */
export const PG_SEGMENT_INDEXES = [
  'person_terms (site, term, external_id) / account_terms (site, term, key): who holds a text filter value (trigger-kept, migration 016)',
  'feedback (site, account_key, pos) and (site, external_user_id, pos), covering kind, idea, user, MRR recorded, score, created_at (014)',
  'feedback (site, kind, pos) with the same columns: NPS and the support of ideas (010, 014)',
  'accounts (site, mrr_cents, key): MRR ranges on the column (001)',
];

export async function pgSegments(url: string, users: number): Promise<{ timings: SegmentTiming[]; seed_s: number }> {
  const t = performance.now();
  await seedSegments(url, users);
  const seed_s = +((performance.now() - t) / 1000).toFixed(1);
  return { timings: await pgAsk(url, users), seed_s };
}

/** The questions, on a database `seedSegments` filled (alone, to compare SQL on one seed). */
export async function pgAsk(url: string, users: number): Promise<SegmentTiming[]> {
  const store = await PostgresStore.open(url, { poolSize: 4, migrate: false });
  try {
    return await ask('postgres', store, PG_SITE, users, users);
  } finally {
    await store.close();
  }
}

export async function seedSegments(url: string, users: number): Promise<void> {
  const accounts = Math.max(1, Math.floor(users / 20));
  await seedPostgres(url, { users, accounts });
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // Accounts of every plan, region and MRR (pg-seed makes them all alike).
    await c.query(
      `UPDATE accounts SET mrr_cents = m, doc = jsonb_set(doc, '{profile,f}', doc->'profile'->'f' || jsonb_build_object(
        'plan', (ARRAY['Starter','Team','Enterprise'])[n % 3 + 1],
        'cf_region', (ARRAY['EU','US','APAC'])[(n / 3) % 3 + 1],
        'mrr_cents', m))
      FROM (SELECT key AS k, substr(key, 6)::int AS n, (substr(key, 6)::int % 1000) * 100 AS m FROM accounts WHERE site = $1) x
      WHERE site = $1 AND key = x.k`,
      [PG_SITE],
    );
    await c.query(
      `INSERT INTO ideas (site, id, doc) SELECT $1::text, 'idea-' || i, jsonb_build_object('site', $1::text, 'id', 'idea-' || i, 'title', 'Idea ' || i, 'created_at', 0)
      FROM generate_series(0, 199) i`,
      [PG_SITE],
    );
    // One feedback per external user, in creation order, of every kind.
    await c.query(
      `INSERT INTO feedback (site, message_id, id, user_id, account_key, idea_id, doc)
      SELECT $1::text, 'm' || n, 'f' || n, e.user_id, e.account_key, CASE WHEN n % 4 < 2 THEN 'idea-' || (n % 200) END,
        jsonb_strip_nulls(jsonb_build_object('site', $1::text, 'id', 'f' || n, 'message_id', 'm' || n,
          'kind', (ARRAY['idea','support','comment','nps'])[n % 4 + 1],
          'idea_id', CASE WHEN n % 4 < 2 THEN 'idea-' || (n % 200) END,
          'score', CASE WHEN n % 4 = 3 THEN n % 11 END, 'body', 'x',
          'user_id', e.user_id, 'external_user_id', e.external_id, 'account_key', e.account_key,
          'mrr_cents_at', a.mrr_cents, 'created_at', 1735689600000 + n * 60000))
      FROM (SELECT row_number() OVER (ORDER BY pos) - 1 AS n, * FROM external_users WHERE site = $1) e
      LEFT JOIN accounts a ON a.site = e.site AND a.key = e.account_key`,
      [PG_SITE],
    );
    // The terms (migration 016) too: filled by triggers during the seed, they would otherwise wait
    // for autovacuum's ANALYZE, and without their statistics the planner joins instead of probing.
    for (const table of ['feedback', 'accounts', 'ideas', 'person_terms', 'account_terms'])
      await c.query(`VACUUM ANALYZE ${table}`);
  } finally {
    await c.end();
  }
}

export async function segmentsBench(env: NodeJS.ProcessEnv): Promise<SegmentsResult> {
  const timings = await embeddedSegments(Number(env.BENCH_SEGMENTS_USERS ?? 100_000));
  const result: SegmentsResult = { timings, load_average: loadavg().map((l) => +l.toFixed(2)) };
  if (env.DATABASE_URL) {
    const { createSchema } = await import('../store/pg-schema.ts');
    const schema = await createSchema();
    try {
      const pgr = await pgSegments(schema.url, Number(env.BENCH_SEGMENTS_PG_USERS ?? 1_000_000));
      result.timings.push(...pgr.timings);
      result.pg_seed_s = pgr.seed_s;
      result.pg_indexes = PG_SEGMENT_INDEXES;
    } finally {
      await schema.drop();
    }
  } else {
    process.stderr.write('bench: segments: DATABASE_URL is not set, the PostgreSQL half is SKIPPED\n');
  }
  result.load_average = loadavg().map((l) => +l.toFixed(2));
  return result;
}

// Alone: `npx tsx test/bench/segments.ts`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await segmentsBench(process.env);
  console.table(r.timings);
  console.log(`load average ${r.load_average.join(' / ')}`, r.pg_seed_s ? `pg seed ${r.pg_seed_s} s` : '');
}
