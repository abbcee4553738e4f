/**
 * The intake log on PostgreSQL, shared by every collector process on the database, and the
 * transactional way its entries are applied (core/intake-log.ts; engines/postgres/index.ts
 * hands both to the intake).
 *
 * - `append` is group commit: requests that arrive while one INSERT is in flight share the
 *   next one, so a 202 (sent once the entry is committed) costs one commit per group, not per
 *   request, as the file log does with fdatasync.
 * - `applyEntry` applies an entry and deletes its row in one transaction, holding advisory
 *   locks on the keys of the people it touches (transactions.ts): an entry is applied once,
 *   however many processes try, and two processes never interleave updates to one person.
 * - Each process writes rows under its own `owner` number and holds an advisory lock on it
 *   while it lives. Rows whose owner no longer holds its lock (a process killed after its
 *   202s) are adopted by another process, at start (`replay`) and then periodically (`adopt`).
 */
import type pg from 'pg';
import type { Identity } from '../../../shared/identity.ts';
import { accountsOf } from '../../core/identify.ts';
import type { IntakeLog, LogEntry } from '../../core/intake-log.ts';
import type { Store } from '../../core/store.ts';
import type { Keys } from './read-ahead.ts';
import type { PostgresStore } from './store.ts';
import { rowKey, siteKey } from './lock-keys.ts';
import { isRetryable, type Locks } from './transactions.ts';
import { mark } from './timing.ts';

/** First half of the two-int advisory lock an owner holds while alive ('Parl'). */
const OWNER_LOCK = 0x5061726c;
/**
 * People per identify entry. An entry is applied with the same few round trips whatever its
 * size (read-ahead, one set-based write, write-behind.ts), so larger entries apply faster;
 * each person costs up to 3 advisory locks (id, email, account), held in the server's shared
 * lock table (max_locks_per_transaction × max_connections slots, 6,400 by default), so an
 * entry holds at most 3 × ENTRY_ITEMS of them. (Several entries at once in one process
 * measured slower on a 2-core machine with PostgreSQL on it: serialization conflicts, no idle
 * CPU.)
 */
export const ENTRY_ITEMS = 250;
/** Above this many person keys an entry locks its whole site instead (one entry has at most 3 per person). */
export const MAX_KEYS = 3 * ENTRY_ITEMS;
/** Rows per INSERT and per adoption. */
const BATCH = 500;

interface Waiter {
  entry: Omit<LogEntry, 'seq'>;
  resolve: (seq: number) => void;
  reject: (e: unknown) => void;
}

/** The advisory locks applying `entry` takes. */
export function locksOf(entry: LogEntry): Locks {
  const site = String(entry.site);
  const whole = siteKey(site);
  const keys = new Set<string>();
  const person = (identity: Identity | undefined, email: unknown) => {
    if (identity) {
      keys.add(rowKey('id', site, identity.id));
      keys.add(rowKey('email', site, identity.email));
      for (const a of accountsOf(identity)) keys.add(rowKey('account', site, a.key));
    } else if (typeof email === 'string') keys.add(rowKey('email', site, email));
  };
  if (entry.op === 'identify')
    for (const item of entry.items as { identity: Identity }[]) person(item.identity, undefined);
  else if (entry.op === 'feedback') {
    const item = entry.item as { identity?: Identity; email?: string };
    person(item.identity, item.email);
  } else return { shared: [], exclusive: [whole] }; // admin writes (imports, erasure): the whole site
  if (keys.size > MAX_KEYS) return { shared: [], exclusive: [whole] };
  return { shared: [whole], exclusive: [...keys] };
}

/** Rounds of adding the keys a transaction lacked before it takes its whole site instead. */
const MAX_WIDEN = 3;

/**
 * The locks to run again with after a transaction touched rows whose keys it lacked
 * (lock-keys.ts): those keys too, or the whole site when they are many, or after a few rounds
 * (each round re-reads what it found, and may find more).
 */
export function widen(site: string, locks: Locks, missing: string[], round: number): Locks {
  const whole = siteKey(site);
  const exclusive = [...new Set([...locks.exclusive, ...missing])];
  if (missing.includes(whole) || exclusive.length > MAX_KEYS || round > MAX_WIDEN)
    return { shared: [], exclusive: [whole] };
  return { shared: locks.shared, exclusive };
}

interface IdentifyItemLike {
  message_id: string;
  identity: Identity;
}

/** What applying these identities will look up (see read-ahead.ts). */
export function keysOf(items: IdentifyItemLike[]): Keys {
  const accountKeys = items.flatMap((i) => accountsOf(i.identity).map((a) => a.key));
  return {
    messageIds: items.map((i) => i.message_id),
    externalIds: items.map((i) => i.identity.id),
    emails: items.map((i) => i.identity.email),
    accountKeys: [...new Set(accountKeys)],
  };
}

export class PgIntakeLog implements IntakeLog {
  private queue: Waiter[] = [];
  private flushing = false;
  private writing: Promise<void> = Promise.resolve();
  private entries: LogEntry[] = [];
  /** Entries whose transaction could not commit (the database unreachable, conflicts that outlasted their retries): handed back by the next `adopt`. */
  private handBack: LogEntry[] = [];

  private constructor(
    private readonly store: PostgresStore,
    readonly owner: number,
    private readonly holder: pg.PoolClient,
  ) {}

  /**
   * Registers this process as an owner and, unless `adopt` is false (an operator command that
   * applies nothing), takes over what dead owners left (for `replay`).
   */
  static async open(store: PostgresStore, o: { adopt?: boolean } = {}): Promise<PgIntakeLog> {
    const holder = await store.pool.connect();
    // Losing this connection (a database restart) must not crash the process: its rows then
    // look orphaned and may be applied by another collector, which the row delete makes safe.
    holder.on('error', () => undefined);
    try {
      for (;;) {
        const owner = 1 + Math.floor(Math.random() * 0x7ffffffe);
        const r = await holder.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [OWNER_LOCK, owner]);
        if (!r.rows[0].ok) continue;
        const log = new PgIntakeLog(store, owner, holder);
        if (o.adopt ?? true) log.entries = await log.adoptRows();
        return log;
      }
    } catch (err) {
      holder.release(err as Error);
      throw err;
    }
  }

  replay(): LogEntry[] {
    const out = this.entries;
    this.entries = [];
    return out;
  }

  append<T extends Omit<LogEntry, 'seq'>>(entry: T): Promise<T & { seq: number }> {
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        this.writing = this.flush();
      }
    }).then((seq) => ({ ...entry, seq }));
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH);
      try {
        await this.insert(batch);
      } catch (err) {
        // One bad entry must not fail the others that shared its commit: retry them one by one.
        if (batch.length === 1) batch[0].reject(err);
        else for (const w of batch) await this.insert([w]).catch(w.reject);
      }
    }
    this.flushing = false;
  }

  private async insert(batch: Waiter[]): Promise<void> {
    // Each entry is its own text parameter, not an element of one array parameter: node-postgres
    // escapes every quote of every array element and measures the doubled string again, which
    // cost as much CPU per identity as the rest of acknowledging (docs/PERFORMANCE.md#postgresql).
    // The column is `json` (sql/013_intake_json.sql): checked, not converted to jsonb.
    const values: unknown[] = [this.owner];
    const rows = batch.map((w) => {
      const items = w.entry.op === 'identify' ? (w.entry.items as unknown[]).length : 0;
      return `($1, $${values.push(JSON.stringify(w.entry))}, ${items})`;
    });
    const r = await this.store.pool.query<{ id: string }>(
      `INSERT INTO intake (owner, entry, identities) VALUES ${rows.join(', ')} RETURNING id`,
      values,
    );
    const ids = r.rows.map((row) => Number(row.id)).sort((a, b) => a - b);
    batch.forEach((w, i) => w.resolve(ids[i]));
  }

  /**
   * Applies `entry` with `apply` in one transaction that also deletes its row; resolves
   * undefined when another process applied it first. An entry that fails for a reason a retry
   * cannot fix is moved to `intake_failed` (the file log's applier logs and skips it too).
   */
  async applyEntry<T>(entry: LogEntry, apply: (store: Store) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.store.transaction(
        locksOf(entry),
        async (tx) => {
          let t = performance.now();
          const r = await tx.query('DELETE FROM intake WHERE id = $1', [entry.seq]);
          t = mark('delete-intake', t);
          if (r.rowCount === 0) return undefined;
          if (entry.op === 'identify')
            await tx.readAhead(String(entry.site), keysOf(entry.items as IdentifyItemLike[]));
          t = mark('read-ahead', t);
          const result = await apply(tx);
          t = mark('apply-js', t);
          await tx.flush();
          mark('flush', t);
          return result;
        },
        {
          asyncCommit: true,
          // Admin writes hold their whole site: nothing runs beside them, SERIALIZABLE costs nothing.
          guarded:
            entry.op === 'identify' || entry.op === 'feedback'
              ? { widen: (locks, missing, round) => widen(String(entry.site), locks, missing, round) }
              : undefined,
        },
      );
    } catch (err) {
      if (!isRetryable(err) && !isConnectionError(err)) {
        await this.store
          .query(
            `WITH d AS (DELETE FROM intake WHERE id = $1 RETURNING id, entry)
          INSERT INTO intake_failed (id, entry, error) SELECT id, entry::jsonb, $2 FROM d ON CONFLICT (id) DO NOTHING`,
            [entry.seq, String((err as Error)?.message ?? err)],
          )
          .catch(() => undefined);
      } else {
        // Its row is still ours, so no other process adopts it: try again at the next adopt.
        this.handBack.push(entry);
      }
      throw err;
    }
  }

  /**
   * Takes over rows whose owner is gone; returns them oldest first, for this process to apply,
   * after the entries of its own that failed to commit.
   */
  async adopt(): Promise<LogEntry[]> {
    const again = this.handBack.splice(0);
    try {
      return [...again, ...(await this.adoptRows())];
    } catch (err) {
      this.handBack.unshift(...again);
      throw err;
    }
  }

  private async adoptRows(): Promise<LogEntry[]> {
    const r = await this.store.query<{ id: string; entry: Omit<LogEntry, 'seq'> }>(
      `UPDATE intake SET owner = $1 WHERE id IN (
        SELECT id FROM intake i WHERE i.owner <> $1 AND NOT EXISTS (
          SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid = $2::int::oid AND l.objid = i.owner::oid)
        ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING id, entry`,
      [this.owner, OWNER_LOCK, BATCH * 10],
    );
    return r.rows.map((row) => ({ ...row.entry, seq: Number(row.id) }) as LogEntry).sort((a, b) => a.seq - b.seq);
  }

  /** Identities in rows not applied yet, by every process (the shared queue's depth). */
  async sharedDepth(): Promise<number> {
    return Number(
      (await this.store.query<{ n: string }>('SELECT coalesce(sum(identities), 0) AS n FROM intake')).rows[0].n,
    );
  }

  async close(): Promise<void> {
    await this.writing;
    await this.holder.query('SELECT pg_advisory_unlock($1, $2)', [OWNER_LOCK, this.owner]).catch(() => undefined);
    this.holder.release();
  }
}

/** Errors that say the database was unreachable, not that the entry is bad: keep the row. */
function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return (
    /^(08|53|57)/.test(code) || /^E[A-Z]+$/.test(code) || /connect|terminat/i.test(String((err as Error)?.message))
  );
}
