/**
 * The PostgreSQL side of the shared rate limits (http/rate-limit.ts, SharedLimits): one
 * statement per sync adds a collector's new hits to the `rate_limits` rows of every key it
 * touched (sql/004_rate_limits.sql), returns the totals of all collectors, and deletes the
 * windows that ended more than a minute ago.
 */
import { createHmac } from 'node:crypto';
import type pg from 'pg';
import type { AddHits } from '../../core/rate-counts.ts';

/** Windows that started this long ago are over (a minute) and no longer read by anyone. */
const KEEP_MS = 2 * 60_000;

/*
 * Rows are upserted in primary-key order, so two collectors adding to the same keys wait for
 * each other instead of deadlocking. Old rows are deleted with SKIP LOCKED: collectors cleaning
 * up at the same moment split them rather than wait. The totals come back in the batch's order.
 */
const SQL = `
WITH batch AS (
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::bigint[]) WITH ORDINALITY AS b(window_start, name, key, hits, i)
), counted AS (
  INSERT INTO rate_limits AS r (window_start, name, key, hits)
  SELECT window_start, name, key, hits FROM batch ORDER BY window_start, name, key
  ON CONFLICT (window_start, name, key) DO UPDATE SET hits = r.hits + EXCLUDED.hits
  RETURNING window_start, name, key, hits
), expired AS (
  DELETE FROM rate_limits WHERE (window_start, name, key) IN (
    SELECT window_start, name, key FROM rate_limits WHERE window_start < $5 FOR UPDATE SKIP LOCKED)
)
SELECT c.hits FROM counted c JOIN batch b USING (window_start, name, key) ORDER BY b.i`;

/** `AddHits` on `pool` (the store's pool: a sync holds one of its connections for a moment). */
export function postgresAddHits(pool: pg.Pool): AddHits {
  let salt: Buffer | undefined;
  return async (batch, now) => {
    // Read once, at the first sync (not at start: a database that is down then must not matter).
    salt ??= (await pool.query<{ salt: Buffer }>('SELECT salt FROM rate_limit_salt')).rows[0].salt;
    // Keys leave the process only as digests: client addresses are personal data, admin keys
    // (already hashed by the caller) secrets.
    const digest = (name: string, key: string) =>
      createHmac('sha256', salt!).update(name).update('\0').update(key).digest();
    const r = await pool.query<{ hits: string }>(SQL, [
      batch.map((h) => h.windowStart),
      batch.map((h) => h.name),
      batch.map((h) => digest(h.name, h.key)),
      batch.map((h) => h.hits),
      now - KEEP_MS,
    ]);
    return r.rows.map((row) => Number(row.hits));
  };
}
