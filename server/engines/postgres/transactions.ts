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
import { createHash } from 'node:crypto';
import type pg from 'pg';
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

/** A key as the signed 64-bit number pg_advisory_lock takes. */
export function lockId(key: string): string {
  return createHash('sha256').update(key).digest().readBigInt64BE(0).toString();
}

export function isRetryable(err: unknown): boolean {
  return RETRY.has((err as { code?: string })?.code ?? '');
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
}

/**
 * Runs `fn` in one SERIALIZABLE transaction on one connection, holding `locks`; retries conflicts.
 * Taking the locks and BEGIN are one round trip, COMMIT and the unlock another (a simple query
 * with several statements; lock ids are numbers, so inlining them is safe).
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  locks: Locks,
  fn: (client: pg.PoolClient) => Promise<T>,
  o: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  let locked = false;
  try {
    const shared = [...new Set(locks.shared.map(lockId))].sort();
    const exclusive = [...new Set(locks.exclusive.map(lockId))].sort();
    const lock = [
      shared.length ? `SELECT count(pg_advisory_lock_shared(k)) FROM unnest('{${shared}}'::bigint[]) AS k;` : '',
      exclusive.length ? `SELECT count(pg_advisory_lock(k)) FROM unnest('{${exclusive}}'::bigint[]) AS k;` : '',
    ].join('');
    const begin = `BEGIN ISOLATION LEVEL SERIALIZABLE;${o.asyncCommit ? ' SET LOCAL synchronous_commit = off;' : ''}`;
    for (let attempt = 1; ; attempt++) {
      locked ||= lock !== '';
      // Statements before BEGIN in one simple query would join its transaction (and take its
      // snapshot before the lock wait): the COMMIT ends them first; session locks outlive it.
      let t = performance.now();
      await client.query(attempt === 1 && lock ? `${lock} COMMIT; ${begin}` : begin);
      t = mark('lock+begin', t);
      try {
        const result = await fn(client);
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
