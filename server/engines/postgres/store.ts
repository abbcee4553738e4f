/**
 * The PostgreSQL store: the Store interface on tables (sql/), for several collector processes
 * on one database. Each method is one statement, or one transaction where it writes several
 * rows. A store returned by `transaction` is bound to one connection and transaction: the
 * intake applies each acknowledged entry through one (transactions.ts, intake-log.ts).
 */
import pg from 'pg';
import type { CustomFieldDef } from '../../../shared/imports.ts';
import type { Account, ExternalUser, Feedback, Idea, Pending, PendingAccount, Site, User } from '../../core/records.ts';
import type { Segment } from '../../core/filters.ts';
import * as segments from './filter-sql.ts';
import { migrate } from './migrations.ts';
import {
  accountOrder,
  accountRow,
  externalUserOrder,
  externalUserRow,
  feedbackOrder,
  feedbackRow,
  pendingRow,
  userFeedbackOrder,
  userOrder,
  userRow,
  type SqlOrder,
} from './rows.ts';
import { ReadAhead, type Keys, type Kind, type Kinds } from './read-ahead.ts';
import { inTransaction, type Locks, type TransactionOptions } from './transactions.ts';
import type { KeyKind, LockGuard } from './lock-keys.ts';
import { WriteBehind, type Table } from './write-behind.ts';
import { mark, timingOn } from './timing.ts';
import {
  cursorOf,
  type AccountQuery,
  type ExternalUserQuery,
  type FeedbackQuery,
  type Page,
  type PageQuery,
  type Promotion,
  type SiteCounts,
  type Store,
  type UserFeedbackQuery,
  type UserQuery,
} from '../../core/store.ts';

type Db = pg.Pool | pg.PoolClient;

/**
 * What `readAhead` reads, in one statement: `kind`, key, row ($1 the site, then its key arrays).
 * Each key is its own primary-key (or unique-index) probe — a LATERAL lookup per element of
 * the array — rather than `key = ANY($n)`: on a table whose statistics lag its growth (a fresh
 * or fast-growing site) the planner answered `site = $1 AND key = ANY(…)` by reading every row
 * of the site and filtering, so the read-ahead grew with the table, and under SERIALIZABLE it
 * took a predicate lock on the whole index, conflicting with every other collector's inserts
 * (docs/PERFORMANCE.md#postgresql).
 */
const probe = (kind: string, cols: string, table: string, key: string, param: string) =>
  `SELECT '${kind}' AS kind, k AS k, r.doc FROM unnest(${param}::text[]) AS k
    CROSS JOIN LATERAL (SELECT ${cols} AS doc FROM ${table} WHERE site = $1 AND ${key} = k LIMIT 1) r`;
export const READ_AHEAD = [
  probe('message', `'true'::jsonb`, 'messages', 'message_id', '$2'),
  probe('externalUser', 'doc', 'external_users', 'external_id', '$3'),
  probe('pending', 'doc', 'pending', 'external_id', '$3'),
  probe('userByEmail', 'doc', 'users', 'email', '$4'),
  probe('account', 'doc', 'accounts', 'key', '$5'),
  probe('pendingAccount', 'doc', 'pending_accounts', 'key', '$5'),
  `SELECT 'site', key, doc FROM sites WHERE key = $1`,
].join('\nUNION ALL ');
type Doc<T> = { doc: T };

/** A listed table: `from`/`keyExpr` as the page query names it, `table`/`key` for the row fetch. */
interface Listing {
  from: string;
  keyExpr: string;
  table: string;
  key: string;
}
const USERS: Listing = { from: 'users u', keyExpr: 'u.id', table: 'users', key: 'id' };
const ACCOUNTS: Listing = { from: 'accounts', keyExpr: 'key', table: 'accounts', key: 'key' };
const FEEDBACK: Listing = { from: 'feedback', keyExpr: 'message_id', table: 'feedback', key: 'message_id' };
const EXTERNAL_USERS: Listing = {
  from: 'external_users',
  keyExpr: 'external_id',
  table: 'external_users',
  key: 'external_id',
};

/** Advisory lock key (two int4s: 'Parl', 'cnts') held by the collector compacting row counts. */
const COMPACT_LOCK = [0x5061726c, 0x636e7473] as const;

export interface PostgresOptions {
  /** Run pending migrations on open. @default true */
  migrate?: boolean;
  /** Connections in this process's pool. @default 10 */
  poolSize?: number;
  /** How often this process folds row count deltas (0: never, for tests). @default 5000 */
  compactCountsMs?: number;
}

export class PostgresStore implements Store {
  private compactor?: { timer: NodeJS.Timeout; running: Promise<void> };
  /** Rows read ahead in this transaction (read-ahead.ts). */
  private ahead?: ReadAhead;
  /** Writes recorded in this transaction, sent set-based by `flush` (write-behind.ts). */
  private writes?: WriteBehind;

  private constructor(
    readonly pool: pg.Pool,
    private readonly db: Db,
    /** In a guarded transaction, what checks its keyed accesses against its locks (lock-keys.ts). */
    readonly guard?: LockGuard,
  ) {}

  /** A keyed access: its lock must be held, in a guarded transaction. */
  private keyed(kind: KeyKind, site: string, key: string): void {
    this.guard?.check(kind, site, key);
  }

  /** An access that is not by key: the whole site must be held, in a guarded transaction. */
  private scan(site: string): void {
    this.guard?.checkSite(site);
  }

  /** Connects to `url` (a `postgres://` URL; `?options=-c search_path=...` picks a schema) and migrates. */
  static async open(url: string, o: PostgresOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: o.poolSize ?? 10 });
    // An idle connection dropped by the server must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    try {
      if (o.migrate ?? true) await migrate(pool);
      else await pool.query('SELECT 1');
    } catch (err) {
      await pool.end();
      throw err;
    }
    const store = new PostgresStore(pool, pool);
    const every = o.compactCountsMs ?? 5000;
    if (every > 0) {
      // Without it the deltas grow with every insert, and so does the cost of reading a count.
      const c = {
        running: Promise.resolve(),
        timer: setInterval(() => {
          c.running = store.compactCounts().catch(() => undefined);
        }, every),
      };
      c.timer.unref();
      store.compactor = c;
    }
    return store;
  }

  async close(): Promise<void> {
    if (this.compactor) {
      clearInterval(this.compactor.timer);
      await this.compactor.running;
    }
    await this.pool.end();
  }

  /** Runs `fn` in one transaction holding `locks` (see transactions.ts); it may run more than once. */
  transaction<T>(locks: Locks, fn: (store: PostgresStore) => Promise<T>, o?: TransactionOptions): Promise<T> {
    if (this.db !== this.pool) return fn(this);
    return inTransaction(this.pool, locks, (client, guard) => fn(new PostgresStore(this.pool, client, guard)), o);
  }

  /**
   * Reads ahead, in one statement per table, the rows that applying identities with these keys
   * will ask for; later lookups of those keys in this transaction answer without a round trip.
   * From then on the transaction's writes are recorded and sent set-based by `flush`.
   */
  async readAhead(site: string, k: Keys): Promise<void> {
    if (this.db === this.pool) throw new Error('readAhead belongs to a transaction');
    const ahead = new ReadAhead(site);
    // One round trip: a branch per table, each an index lookup of its keys. The site's row
    // comes along (the intake asks for its custom fields once per entry).
    const { rows } = await this.db.query<{ kind: Kind | 'site'; k: string; doc: unknown }>({
      text: READ_AHEAD,
      values: [site, k.messageIds, k.externalIds, k.emails, k.accountKeys],
    });
    const found = new Map<string, [string, unknown][]>();
    for (const r of rows) {
      if (r.kind === 'site') ahead.siteRow = r.doc as Site;
      else (found.get(r.kind) ?? found.set(r.kind, []).get(r.kind)!).push([r.k, r.doc]);
    }
    const fill = <K extends Kind>(kind: K, keys: string[]) =>
      ahead.fill(kind, keys, (found.get(kind) ?? []) as [string, Kinds[K]][]);
    fill('message', k.messageIds);
    fill('externalUser', k.externalIds);
    fill('pending', k.externalIds);
    fill('userByEmail', k.emails);
    fill('account', k.accountKeys);
    fill('pendingAccount', k.accountKeys);
    this.ahead = ahead;
    this.writes = new WriteBehind();
  }

  /** Sends the writes recorded since `readAhead` (write-behind.ts); the transaction commits after. */
  async flush(): Promise<void> {
    // Rows written without their locks are not sent: the transaction runs again holding them.
    this.guard?.assert();
    if (this.writes?.size) await this.writes.flush(this.db);
  }

  /** A row written now, or recorded for `flush` inside an applying transaction. */
  private async put(table: Table, row: unknown[], sql: string): Promise<void> {
    if (this.writes) this.writes.put(table, row);
    else await this.query(sql, row);
  }

  /** A row deleted by key now, or recorded for `flush`. */
  private async del(table: Table, key: [string, string], sql: string): Promise<void> {
    if (this.writes) this.writes.delete(table, key);
    else await this.query(sql, key);
  }

  /** One row by (site, key): as read ahead in this transaction, else from `sql` with those two. */
  private async row<K extends Exclude<Kind, 'message'>>(kind: K, site: string, key: string, sql: string) {
    const known = this.ahead?.lookup(kind, site, key);
    return known !== undefined ? (known ?? undefined) : this.doc<Kinds[K]>(sql, [site, key]);
  }

  /**
   * A query on this store's connection (the pool, or its transaction). Recorded writes go
   * first, so whatever it reads includes them.
   */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []) {
    if (this.writes?.size) await this.flush();
    if (!this.ahead || !timingOn) return this.db.query<R>(sql, params);
    const t = performance.now();
    const r = await this.db.query<R>(sql, params);
    mark(`query ${sql.slice(0, 40)}`, t);
    return r;
  }

  private async doc<T>(sql: string, params: unknown[]): Promise<T | undefined> {
    return (await this.query<Doc<T>>(sql, params)).rows[0]?.doc;
  }

  private async docs<T>(sql: string, params: unknown[]): Promise<T[]> {
    return (await this.query<Doc<T>>(sql, params)).rows.map((r) => r.doc);
  }

  /**
   * One page of a listing in two steps: the page's keys (and the last one's cursor) from an
   * index, then only those rows, so deep pages skip rows in the index alone. With `q.after`
   * the keys start after the cursor instead of at an offset: a range scan, as fast at any depth.
   */
  private async pageOf<T>(
    l: Listing,
    where: string[],
    params: unknown[],
    order: SqlOrder,
    q: PageQuery,
  ): Promise<Omit<Page<T>, 'total'>> {
    const p = (v: unknown) => `$${params.push(v)}`;
    const conds = [...where];
    if (q.after) conds.push(order.after(cursorOf(q.after, order.types).map(p)));
    const cols = order.cursor.map((c, i) => `${c} AS c${i}`).join(', ');
    const skip = q.after ? '' : ` OFFSET ${p((q.page - 1) * q.perPage)}`;
    const keys = (
      await this.query<Record<string, string | number>>(
        `SELECT ${l.keyExpr} AS k, ${cols} FROM ${l.from} WHERE ${conds.join(' AND ')} ORDER BY ${order.orderBy} LIMIT ${p(q.perPage + 1)}${skip}`,
        params,
      )
    ).rows;
    const more = keys.length > q.perPage;
    if (more) keys.pop();
    const last = keys[keys.length - 1];
    // bigint arrives as a string; cursors carry numbers (pos is far below 2^53).
    const next = more
      ? order.types.map((t, i) => (t === 'string' ? String(last[`c${i}`]) : Number(last[`c${i}`])))
      : null;
    if (keys.length === 0) return { items: [], next };
    const site = params[0];
    const rows = await this.query<{ k: string; doc: T }>(
      `SELECT ${l.key} AS k, doc FROM ${l.table} WHERE site = $1 AND ${l.key} = ANY($2::text[])`,
      [site, keys.map((r) => r.k)],
    );
    const byKey = new Map(rows.rows.map((r) => [r.k, r.doc]));
    return { items: keys.flatMap((r) => (byKey.has(r.k as string) ? [byKey.get(r.k as string)!] : [])), next };
  }

  /** Rows per counted table of a site, from the row_counts deltas (sql/003_row_counts.sql). */
  private async rowCounts(site: string): Promise<Record<string, number>> {
    const r = await this.query<{ tbl: string; n: string }>(
      'SELECT tbl, sum(n) AS n FROM row_counts WHERE site = $1 GROUP BY tbl',
      [site],
    );
    return Object.fromEntries(r.rows.map((x) => [x.tbl, Number(x.n)]));
  }

  /**
   * Folds the row count deltas into one row per (site, table). READ COMMITTED: the DELETE takes
   * only the deltas committed when it starts and later ones stay, so the sums never change; an
   * advisory lock lets one collector at a time do it while the others skip.
   */
  async compactCounts(): Promise<void> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      const { rows } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS ok', [
        ...COMPACT_LOCK,
      ]);
      if (rows[0].ok) {
        await c.query(`WITH gone AS (DELETE FROM row_counts RETURNING site, tbl, n)
          INSERT INTO row_counts (site, tbl, n) SELECT site, tbl, sum(n) FROM gone GROUP BY site, tbl HAVING sum(n) <> 0`);
      }
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch((e) => {
        broken = e;
      });
      throw err;
    } finally {
      c.release(broken);
    }
  }

  private atomic(fn: (store: PostgresStore) => Promise<void>): Promise<void> {
    return this.transaction({ shared: [], exclusive: [] }, fn);
  }

  listSites() {
    return this.docs<Site>('SELECT doc FROM sites ORDER BY pos', []);
  }
  getSite(key: string) {
    return this.doc<Site>('SELECT doc FROM sites WHERE key = $1', [key]);
  }
  getSiteByAdminKeyHash(hash: string) {
    return this.doc<Site>('SELECT doc FROM sites WHERE admin_key_hash = $1 ORDER BY pos LIMIT 1', [hash]);
  }
  async putSite(site: Site) {
    await this.query(
      `INSERT INTO sites (key, admin_key_hash, doc) VALUES ($1, $2, $3)
      ON CONFLICT (key) DO UPDATE SET admin_key_hash = EXCLUDED.admin_key_hash, doc = EXCLUDED.doc`,
      [site.key, site.admin_key_hash, JSON.stringify(site)],
    );
  }

  async getUser(site: string, id: string) {
    const user = await this.doc<User>('SELECT doc FROM users WHERE site = $1 AND id = $2', [site, id]);
    // Users are locked by email (whoever finds one by email holds it): known once read.
    if (user) this.keyed('email', site, user.email);
    return user;
  }
  getUserByEmail(site: string, email: string) {
    this.keyed('email', site, email);
    return this.row('userByEmail', site, email, 'SELECT doc FROM users WHERE site = $1 AND email = $2');
  }
  async putUser(user: User) {
    this.keyed('email', user.site, user.email);
    await this.put(
      'users',
      userRow(user),
      `INSERT INTO users (site, id, email, email_lc, name_key, created_at, updated_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
      ON CONFLICT (site, id) DO UPDATE SET email = EXCLUDED.email, email_lc = EXCLUDED.email_lc, name_key = EXCLUDED.name_key,
        created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, doc = EXCLUDED.doc`,
    );
    this.ahead?.user(user.site, user.id, user);
  }
  async listUsers(site: string, q: UserQuery): Promise<Page<User>> {
    const params: unknown[] = [site];
    const where = ['u.site = $1'];
    const eu = (cond: string) =>
      `EXISTS (SELECT 1 FROM external_users e WHERE e.site = u.site AND e.user_id = u.id AND ${cond})`;
    const p = (v: unknown) => `$${params.push(v)}`;
    if (q.updatedAfter !== undefined) {
      const x = p(q.updatedAfter);
      where.push(`(u.updated_at > ${x} OR ${eu(`e.updated_at > ${x}`)})`);
    }
    if (q.account) where.push(eu(`parley_account_keys(e.doc) @> ARRAY[${p(q.account)}::text]`));
    if (q.type) where.push(eu(`e.type = ${p(q.type)}`));
    if (q.tag)
      where.push(
        eu(
          `jsonb_typeof(e.doc->'profile'->'f'->'tags') = 'array' AND e.doc->'profile'->'f'->'tags' @> jsonb_build_array(${p(q.tag)}::text)`,
        ),
      );
    if (q.q) {
      const x = p(q.q.toLowerCase());
      // As the memory store: the user's email (stored lower case) or name, not their external users'.
      where.push(`(strpos(u.email, ${x}) > 0 OR strpos(u.name_key, ${x}) > 0)`);
    }
    where.push(...segments.userConds(q.segment, 'u', p));
    const filtered = where.length > 1;
    // An exact count of a filtered listing reads every match; unfiltered totals are kept.
    const [total, page] = await Promise.all([
      filtered
        ? this.query<{ n: string }>(`SELECT count(*) AS n FROM users u WHERE ${where.join(' AND ')}`, [...params]).then(
            (r) => Number(r.rows[0].n),
          )
        : this.rowCounts(site).then((c) => c.users ?? 0),
      this.pageOf<User>(USERS, where, params, userOrder(q.sort), q),
    ]);
    return { ...page, total };
  }
  async deleteUser(site: string, id: string) {
    this.scan(site);
    await this.del('users', [site, id], 'DELETE FROM users WHERE site = $1 AND id = $2');
    this.ahead?.user(site, id, null);
  }

  getExternalUser(site: string, externalId: string) {
    this.keyed('id', site, externalId);
    return this.row(
      'externalUser',
      site,
      externalId,
      'SELECT doc FROM external_users WHERE site = $1 AND external_id = $2',
    );
  }
  async putExternalUser(eu: ExternalUser) {
    this.keyed('id', eu.site, eu.external_id);
    await this.put(
      'external_users',
      externalUserRow(eu),
      `INSERT INTO external_users (site, external_id, user_id, account_key, type, name_lc, updated_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
      ON CONFLICT (site, external_id) DO UPDATE SET user_id = EXCLUDED.user_id, account_key = EXCLUDED.account_key, type = EXCLUDED.type,
        name_lc = EXCLUDED.name_lc, updated_at = EXCLUDED.updated_at, doc = EXCLUDED.doc`,
    );
    this.ahead?.set('externalUser', eu.site, eu.external_id, eu);
  }
  externalUsersOf(site: string, userId: string) {
    this.scan(site);
    return this.docs<ExternalUser>('SELECT doc FROM external_users WHERE site = $1 AND user_id = $2 ORDER BY pos', [
      site,
      userId,
    ]);
  }
  async listExternalUsers(site: string, q: ExternalUserQuery): Promise<Page<ExternalUser>> {
    const params: unknown[] = [site];
    const where = ['site = $1'];
    if (q.userId !== undefined) where.push(`user_id = $${params.push(q.userId)}`);
    if (q.account !== undefined) where.push(`parley_account_keys(doc) @> ARRAY[$${params.push(q.account)}::text]`);
    const [total, page] = await Promise.all([
      where.length > 1
        ? this.query<{ n: string }>(`SELECT count(*) AS n FROM external_users WHERE ${where.join(' AND ')}`, [
            ...params,
          ]).then((r) => Number(r.rows[0].n))
        : this.rowCounts(site).then((c) => c.external_users ?? 0),
      this.pageOf<ExternalUser>(EXTERNAL_USERS, where, params, externalUserOrder, q),
    ]);
    return { ...page, total };
  }
  async deleteExternalUser(site: string, externalId: string) {
    this.keyed('id', site, externalId);
    await this.del(
      'external_users',
      [site, externalId],
      'DELETE FROM external_users WHERE site = $1 AND external_id = $2',
    );
    this.ahead?.set('externalUser', site, externalId, null);
  }

  getAccount(site: string, key: string) {
    this.keyed('account', site, key);
    return this.row('account', site, key, 'SELECT doc FROM accounts WHERE site = $1 AND key = $2');
  }
  async putAccount(a: Account) {
    this.keyed('account', a.site, a.key);
    await this.put(
      'accounts',
      accountRow(a),
      `INSERT INTO accounts (site, key, name_key, mrr_cents, ltv_cents, created_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (site, key) DO UPDATE SET name_key = EXCLUDED.name_key, mrr_cents = EXCLUDED.mrr_cents, ltv_cents = EXCLUDED.ltv_cents,
        created_at = EXCLUDED.created_at, doc = EXCLUDED.doc`,
    );
    this.ahead?.set('account', a.site, a.key, a);
  }
  async listAccounts(site: string, q: AccountQuery): Promise<Page<Account>> {
    if (q.segment) {
      const params: unknown[] = [site];
      const where = ['site = $1', ...segments.accountRowConds(q.segment, 'accounts', (v) => `$${params.push(v)}`)];
      if (where.length > 1) return this.filteredPage(ACCOUNTS, where, params, accountOrder(q.sort), q);
    }
    const [counts, page] = await Promise.all([
      this.rowCounts(site),
      this.pageOf<Account>(ACCOUNTS, ['site = $1'], [site], accountOrder(q.sort), q),
    ]);
    return { ...page, total: counts.accounts ?? 0 };
  }
  async deleteAccount(site: string, key: string) {
    this.keyed('account', site, key);
    await this.del('accounts', [site, key], 'DELETE FROM accounts WHERE site = $1 AND key = $2');
    this.ahead?.set('account', site, key, null);
  }
  async accountCounts(site: string, key: string) {
    const r = await this.query<{ u: string; f: string }>(
      // Every linked external user counts (sql/012_account_links.sql).
      `SELECT (SELECT count(*) FROM external_users WHERE site = $1 AND parley_account_keys(doc) @> ARRAY[$2::text]) AS u,
      (SELECT count(*) FROM feedback WHERE site = $1 AND account_key = $2) AS f`,
      [site, key],
    );
    return { users_count: Number(r.rows[0].u), feedback_count: Number(r.rows[0].f) };
  }

  getPending(site: string, externalId: string) {
    this.keyed('id', site, externalId);
    return this.row('pending', site, externalId, 'SELECT doc FROM pending WHERE site = $1 AND external_id = $2');
  }
  async putPending(p: Pending) {
    this.keyed('id', p.site, p.external_id);
    const email = p.profile.f.email;
    if (typeof email === 'string') this.keyed('email', p.site, email);
    await this.put(
      'pending',
      pendingRow(p),
      `INSERT INTO pending (site, external_id, email, received_at, doc) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (site, external_id) DO UPDATE SET email = EXCLUDED.email, received_at = EXCLUDED.received_at, doc = EXCLUDED.doc`,
    );
    this.ahead?.set('pending', p.site, p.external_id, p);
  }
  async deletePending(site: string, externalId: string) {
    this.keyed('id', site, externalId);
    await this.del('pending', [site, externalId], 'DELETE FROM pending WHERE site = $1 AND external_id = $2');
    this.ahead?.set('pending', site, externalId, null);
  }
  async pendingIdsByEmail(site: string, email: string) {
    this.keyed('email', site, email);
    return (
      await this.query<{ id: string }>(
        'SELECT external_id AS id FROM pending WHERE site = $1 AND email = $2 ORDER BY pos',
        [site, email],
      )
    ).rows.map((r) => r.id);
  }

  getPendingAccount(site: string, key: string) {
    this.keyed('account', site, key);
    return this.row('pendingAccount', site, key, 'SELECT doc FROM pending_accounts WHERE site = $1 AND key = $2');
  }
  async putPendingAccount(a: PendingAccount) {
    this.keyed('account', a.site, a.key);
    await this.put(
      'pending_accounts',
      [a.site, a.key, a.updated_at, JSON.stringify(a)],
      `INSERT INTO pending_accounts (site, key, updated_at, doc) VALUES ($1, $2, $3, $4)
       ON CONFLICT (site, key) DO UPDATE SET updated_at = EXCLUDED.updated_at, doc = EXCLUDED.doc`,
    );
    this.ahead?.set('pendingAccount', a.site, a.key, a);
  }
  async deletePendingAccount(site: string, key: string) {
    this.keyed('account', site, key);
    await this.del('pending_accounts', [site, key], 'DELETE FROM pending_accounts WHERE site = $1 AND key = $2');
    this.ahead?.set('pendingAccount', site, key, null);
  }

  async hasMessage(site: string, messageId: string) {
    const known = this.ahead?.lookup('message', site, messageId);
    if (known !== undefined) return known === true;
    return (
      (await this.query('SELECT 1 FROM messages WHERE site = $1 AND message_id = $2', [site, messageId])).rowCount! > 0
    );
  }
  async addMessage(site: string, messageId: string, at: number) {
    await this.put(
      'messages',
      [site, messageId, at],
      'INSERT INTO messages (site, message_id, at) VALUES ($1, $2, $3) ON CONFLICT (site, message_id) DO UPDATE SET at = EXCLUDED.at',
    );
    this.ahead?.set('message', site, messageId, true);
  }

  getFeedbackByMessage(site: string, messageId: string) {
    return this.doc<Feedback>('SELECT doc FROM feedback WHERE site = $1 AND message_id = $2', [site, messageId]);
  }
  putFeedback(f: Feedback, idea: Idea | null) {
    return this.atomic(async (s) => {
      if (idea) await s.putIdea(idea);
      await s.putFeedbackRow(f);
    });
  }
  async putIdea(idea: Idea) {
    await this.query(
      'INSERT INTO ideas (site, id, doc) VALUES ($1, $2, $3) ON CONFLICT (site, id) DO UPDATE SET doc = EXCLUDED.doc',
      [idea.site, idea.id, JSON.stringify(idea)],
    );
  }
  private async putFeedbackRow(f: Feedback) {
    await this.query(
      `INSERT INTO feedback (site, message_id, id, user_id, account_key, idea_id, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (site, message_id) DO UPDATE SET id = EXCLUDED.id, user_id = EXCLUDED.user_id, account_key = EXCLUDED.account_key,
        idea_id = EXCLUDED.idea_id, doc = EXCLUDED.doc`,
      feedbackRow(f),
    );
  }
  async listFeedback(site: string, q: FeedbackQuery): Promise<Page<Feedback>> {
    if (q.segment) {
      const params: unknown[] = [site];
      const where = ['site = $1', ...segments.feedbackConds(q.segment, 'feedback', (v) => `$${params.push(v)}`)];
      if (where.length > 1) {
        // The total is the segment's feedback_count: one statement for the page's total and
        // the totals the route asks beside it (filter-sql.ts, sharedTotals).
        const [totals, page] = await Promise.all([
          segments.sharedTotals(this, (sql, p) => this.query(sql, p), site, q.segment),
          this.pageOf<Feedback>(FEEDBACK, where, params, feedbackOrder, q),
        ]);
        return { ...page, total: totals.feedback_count };
      }
    }
    const [counts, page] = await Promise.all([
      this.rowCounts(site),
      this.pageOf<Feedback>(FEEDBACK, ['site = $1'], [site], feedbackOrder, q),
    ]);
    return { ...page, total: counts.feedback ?? 0 };
  }
  async listUserFeedback(site: string, q: UserFeedbackQuery): Promise<Page<Feedback>> {
    const params: unknown[] = [site, q.userId];
    const where = [
      'site = $1',
      'user_id = $2',
      ...segments.feedbackConds(q.segment, 'feedback', (v) => `$${params.push(v)}`),
    ];
    return this.filteredPage(FEEDBACK, where, params, userFeedbackOrder, q);
  }
  /** A page of a listing under `where`, with its exact count (which reads every match). */
  private async filteredPage<T>(l: Listing, where: string[], params: unknown[], order: SqlOrder, q: PageQuery) {
    const [total, page] = await Promise.all([
      this.query<{ n: string }>(`SELECT count(*) AS n FROM ${l.from} WHERE ${where.join(' AND ')}`, [...params]).then(
        (r) => Number(r.rows[0].n),
      ),
      this.pageOf<T>(l, where, params, order, q),
    ]);
    return { ...page, total };
  }
  segmentTotals(site: string, segment: Segment) {
    return segments.sharedTotals(this, (sql, params) => this.query(sql, params), site, segment);
  }
  segmentIdeaStats(site: string, segment: Segment) {
    return segments.segmentIdeaStats((sql, params) => this.query(sql, params), site, segment);
  }
  npsWeeks(site: string, segment: Segment) {
    return segments.npsWeeks((sql, params) => this.query(sql, params), site, segment);
  }
  async moveFeedback(site: string, externalUserId: string, fromUserId: string, toUserId: string) {
    this.scan(site);
    // The user's feedback through its index, then the external user's among it.
    const r = await this.query(
      `UPDATE feedback SET user_id = $4, doc = jsonb_set(doc, '{user_id}', to_jsonb($4::text))
      WHERE site = $1 AND user_id = $3 AND doc->>'external_user_id' = $2`,
      [site, externalUserId, fromUserId, toUserId],
    );
    return r.rowCount ?? 0;
  }
  feedbackForIdea(site: string, ideaId: string) {
    this.scan(site);
    return this.docs<Feedback>('SELECT doc FROM feedback WHERE site = $1 AND idea_id = $2 ORDER BY pos', [
      site,
      ideaId,
    ]);
  }
  async detachFeedback(site: string, userId: string, accountKeys: string[]) {
    this.scan(site);
    const r = await this.query(
      `UPDATE feedback SET user_id = NULL,
        account_key = CASE WHEN account_key = ANY($3::text[]) THEN NULL ELSE account_key END,
        doc = doc || jsonb_build_object('user_id', NULL, 'external_user_id', NULL,
          'account_key', CASE WHEN account_key = ANY($3::text[]) THEN NULL ELSE to_jsonb(account_key) END)
      WHERE site = $1 AND user_id = $2`,
      [site, userId, accountKeys],
    );
    return r.rowCount ?? 0;
  }

  async customFields(site: string) {
    const ahead = this.ahead?.siteRow;
    return (ahead?.key === site ? ahead : await this.getSite(site))?.custom_fields ?? [];
  }
  async putCustomFields(site: string, defs: CustomFieldDef[]) {
    this.scan(site);
    await this.query(`UPDATE sites SET doc = jsonb_set(doc, '{custom_fields}', $2::jsonb) WHERE key = $1`, [
      site,
      JSON.stringify(defs),
    ]);
  }

  async segments(site: string) {
    return (await this.getSite(site))?.segments ?? {};
  }
  async putSegment(site: string, name: string, filters: Record<string, string[]> | null) {
    this.scan(site);
    // One statement: two admins saving different segments at once both keep theirs.
    await this.query(
      filters === null
        ? `UPDATE sites SET doc = jsonb_set(doc, '{segments}', coalesce(doc->'segments', '{}'::jsonb) - $2::text) WHERE key = $1`
        : `UPDATE sites SET doc = jsonb_set(doc, '{segments}', coalesce(doc->'segments', '{}'::jsonb) || jsonb_build_object($2::text, $3::jsonb)) WHERE key = $1`,
      filters === null ? [site, name] : [site, name, JSON.stringify(filters)],
    );
  }

  getIdea(site: string, id: string) {
    return this.doc<Idea>('SELECT doc FROM ideas WHERE site = $1 AND id = $2', [site, id]);
  }
  listIdeas(site: string) {
    return this.docs<Idea>('SELECT doc FROM ideas WHERE site = $1 ORDER BY pos', [site]);
  }

  promote(p: Promotion) {
    return this.atomic(async (s) => {
      await s.putUser(p.user);
      await s.putExternalUser(p.externalUser);
      for (const a of p.accounts) await s.putAccount(a);
      if (p.pendingId !== null) await s.deletePending(p.site, p.pendingId);
      for (const key of p.pendingAccountKeys) await s.deletePendingAccount(p.site, key);
      if (p.idea) await s.putIdea(p.idea);
      await s.putFeedbackRow(p.feedback);
    });
  }

  async counts(site: string): Promise<SiteCounts> {
    const c = await this.rowCounts(site);
    return {
      users: c.users ?? 0,
      pending_identities: c.pending ?? 0,
      external_users: c.external_users ?? 0,
      external_accounts: c.accounts ?? 0,
      feedback: c.feedback ?? 0,
    };
  }

  async prunePending(receivedBefore: number, maxPerSite: number): Promise<number> {
    const old = await this.query('DELETE FROM pending WHERE received_at < $1', [receivedBefore]);
    // Per site over the maximum, its oldest (stable: creation order among equals) via the index.
    const over = await this.query(
      `DELETE FROM pending p USING (
        SELECT x.site, x.external_id FROM (SELECT site, count(*) - $1 AS n FROM pending GROUP BY site HAVING count(*) > $1) o
        CROSS JOIN LATERAL (SELECT site, external_id FROM pending WHERE site = o.site ORDER BY received_at, pos LIMIT o.n) x) d
      WHERE p.site = d.site AND p.external_id = d.external_id`,
      [maxPerSite],
    );
    // What pending identities said about accounts that never became visible ages out with them.
    await this.query('DELETE FROM pending_accounts WHERE updated_at < $1', [receivedBefore]);
    // Message ids are remembered at least as long as pending identities (lowdb keeps 7 days).
    await this.query('DELETE FROM messages WHERE at < $1', [receivedBefore]);
    return (old.rowCount ?? 0) + (over.rowCount ?? 0);
  }
}
