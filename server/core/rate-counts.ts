/**
 * The port through which collectors share rate-limit counts (http/rate-limit.ts, SharedLimits).
 * The rate limiter calls it and an engine that several collectors share implements it
 * (engines/postgres/rate-counts.ts), so it lives here, below both.
 */

/** One key's hits in one window, as sent to the shared counts. */
export interface WindowHits {
  name: string;
  key: string;
  windowStart: number;
  hits: number;
}

/**
 * Adds each entry's hits to the total of all collectors and resolves with the new totals, in
 * the batch's order. `now` is this process's clock, for dropping windows nobody counts any
 * more. Rejects when it cannot.
 */
export type AddHits = (batch: WindowHits[], now: number) => Promise<number[]>;
