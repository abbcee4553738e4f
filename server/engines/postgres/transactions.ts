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

/** Runs `fn` in one SERIALIZABLE transaction on one connection, holding `locks`; retries conflicts. */
export async function inTransaction<T>(
  pool: pg.Pool,
  locks: Locks,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const shared = [...new Set(locks.shared.map(lockId))].sort();
    const exclusive = [...new Set(locks.exclusive.map(lockId))].sort();
    if (shared.length) await client.query('SELECT pg_advisory_lock_shared(k) FROM unnest($1::bigint[]) AS k', [shared]);
    if (exclusive.length) await client.query('SELECT pg_advisory_lock(k) FROM unnest($1::bigint[]) AS k', [exclusive]);
    for (let attempt = 1; ; attempt++) {
      await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      try {
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e) => {
          broken = e;
        });
        if (broken || !isRetryable(err) || attempt === MAX_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
  } finally {
    if (!broken)
      await client.query('SELECT pg_advisory_unlock_all()').catch((e) => {
        broken = e;
      });
    // A connection in an unknown state is closed, which also frees whatever it held.
    client.release(broken);
  }
}
