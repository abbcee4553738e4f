/**
 * Transactions for the PostgreSQL store, safe with several collector processes at once.
 *
 * The core applies an identity by read-merge-write through store calls. Two processes
 * applying updates for the same person must not interleave those steps, so a transaction
 * first takes advisory locks on the keys it will touch (site-wide shared, then the person's
 * keys exclusive, in sorted order so two processes never deadlock on them), then runs
 * SERIALIZABLE, which catches what the keys did not cover (an account a pending identity once
 * named, say): PostgreSQL aborts one side and it is run again from the start. The locks are
 * session locks taken before BEGIN, so the transaction's snapshot is taken after the wait.
 */
import type pg from 'pg';
import { LockGuard, MissingLocks } from './lock-keys.ts';
import { mark } from './timing.ts';

/** What a transaction locks: keys are free-form strings (e.g. `eu\0site\0id`). */
export interface Locks {
  /** Locked shared (many transactions at once); an exclusive lock on one waits for them all. */
  shared: string[];
  exclusive: string[];
}

/** SQLSTATEs after which running the whole transaction again is the right answer. */
const RETRY = new Set(['40001', '40P01', '23505']);
const MAX_ATTEMPTS = 30;

/**
 * A key as a number pg_advisory_lock takes: a 53-bit hash (cyrb53, public domain). Two keys
 * that collide only share a lock, which makes one wait, never wrong. A SHA-256 per key was a
 * tenth of the collector's CPU in applying (docs/PERFORMANCE.md#postgresql).
 */
export function lockId(key: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return String(4294967296 * (2097151 & h2) + (h1 >>> 0));
}

export function isRetryable(err: unknown): boolean {
  return RETRY.has((err as { code?: string })?.code ?? '') || err instanceof MissingLocks;
}

export interface TransactionOptions {
  /**
   * Commit without waiting for the WAL flush (`synchronous_commit = off` for this transaction).
   * Safe only where losing the transaction in a database crash loses its reason too: applying
   * an intake entry deletes the entry's row in the same transaction, so a crash that undoes the
   * apply also brings the row back, and it is applied again (docs/POSTGRES.md). The WAL is
   * sequential, so a later synchronous commit that saw these writes flushes them first.
   */
  asyncCommit?: boolean;
  /**
   * REPEATABLE READ with a guard on the locks instead of SERIALIZABLE (lock-keys.ts): `fn`
   * gets a LockGuard for the exclusive keys held, and a MissingLocks it throws runs the
   * transaction again holding the locks `widen` returns for the keys it lacked.
   */
  guarded?: { widen: (locks: Locks, missing: string[], round: number) => Locks };
}

/**
 * Runs `fn` in one transaction on one connection, holding `locks`; retries conflicts.
 * SERIALIZABLE, or REPEATABLE READ where `o.guarded` says the locks cover what `fn` touches.
 * Taking the locks and BEGIN are one round trip, COMMIT and the unlock another (a simple query
 * with several statements; lock ids are numbers, so inlining them is safe).
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  locks: Locks,
  fn: (client: pg.PoolClient, guard: LockGuard | undefined) => Promise<T>,
  o: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  let locked = false;
  try {
    const level = o.guarded ? 'REPEATABLE READ' : 'SERIALIZABLE';
    const begin = `BEGIN ISOLATION LEVEL ${level};${o.asyncCommit ? ' SET LOCAL synchronous_commit = off;' : ''}`;
    let lock = lockSql(locks);
    let widened = 0;
    for (let attempt = 1; ; attempt++) {
      locked ||= lock !== '';
      // Statements before BEGIN in one simple query would join its transaction (and take its
      // snapshot before the lock wait): the COMMIT ends them first; session locks outlive it.
      let t = performance.now();
      await client.query(lock ? `${lock} COMMIT; ${begin}` : begin);
      lock = '';
      t = mark('lock+begin', t);
      try {
        const result = await fn(client, o.guarded ? new LockGuard(locks.exclusive) : undefined);
        t = performance.now();
        await client.query(locked ? 'COMMIT; SELECT pg_advisory_unlock_all()' : 'COMMIT');
        mark('commit', t);
        locked = false;
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e) => {
          broken = e;
        });
        mark(`retry ${(err as { code?: string })?.code}`, performance.now());
        if (broken || !isRetryable(err) || attempt === MAX_ATTEMPTS) throw err;
        if (err instanceof MissingLocks && o.guarded) {
          // All locks are released and the wider set taken again in sorted order, as at first,
          // so that two transactions never wait for each other's locks.
          locks = o.guarded.widen(locks, err.keys, ++widened);
          if (locked) await client.query('SELECT pg_advisory_unlock_all()');
          locked = false;
          lock = lockSql(locks);
          continue;
        }
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
  } finally {
    if (!broken && locked)
      await client.query('SELECT pg_advisory_unlock_all()').catch((e) => {
        broken = e;
      });
    // A connection in an unknown state is closed, which also frees whatever it held.
    client.release(broken);
  }
}

/** The statements that take `locks` (shared first, each set in sorted order), or ''. */
function lockSql(locks: Locks): string {
  const shared = [...new Set(locks.shared.map(lockId))].sort();
  const exclusive = [...new Set(locks.exclusive.map(lockId))].sort();
  return [
    shared.length ? `SELECT count(pg_advisory_lock_shared(k)) FROM unnest('{${shared}}'::bigint[]) AS k;` : '',
    exclusive.length ? `SELECT count(pg_advisory_lock(k)) FROM unnest('{${exclusive}}'::bigint[]) AS k;` : '',
  ].join('');
}
