/**
 * The retry policy, in one place. HTTP outcomes become data: `ok`, `retry` or `drop`.
 *
 * Retried: network failures (status 0 — offline, CORS, ad blockers), 408, 429 and 5xx except
 * 501/505 (the server says it will never support the request). Everything else in 4xx is our
 * mistake or a refusal (bad identity, unknown site, foreign origin) that repeating cannot fix,
 * so it is dropped.
 */
export type Outcome = 'ok' | 'retry' | 'drop';

export function classify(status: number): Outcome {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 0 || status === 408 || status === 429) return 'retry';
  if (status >= 500 && status < 600 && status !== 501 && status !== 505) return 'retry';
  return 'drop';
}

/** First retry waits up to this long. @default 1000 */
export const BACKOFF_BASE_MS = 1000;
/** No retry waits longer than this unless the server asks via Retry-After. @default 60000 */
export const BACKOFF_CAP_MS = 60_000;
/** A Retry-After longer than this is treated as this, so one bad header cannot park us forever. */
export const RETRY_AFTER_CAP_MS = 300_000;
/** Never retry sooner than this: full jitter can draw 0, and a hot loop helps nobody. */
export const BACKOFF_MIN_MS = 100;

/**
 * Exponential backoff with full jitter: uniform in [min, min(cap, base·2^attempt)). Full jitter
 * spreads the retries of many pages that failed together (a collector restart) over the window.
 * `attempt` counts from 0 for the first retry.
 */
export function backoff(attempt: number, random: () => number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 30));
  return Math.max(BACKOFF_MIN_MS, Math.floor(random() * ceiling));
}

/** Parses Retry-After (delta seconds or an HTTP date) into milliseconds, capped; null if absent. */
export function parseRetryAfter(header: string | null | undefined, now: number): number | null {
  if (!header) return null;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  if (!Number.isFinite(ms)) return null;
  return Math.min(RETRY_AFTER_CAP_MS, Math.max(0, ms));
}

/** How long to wait before the next attempt: the server's Retry-After when given, else backoff. */
export function retryDelay(attempt: number, retryAfter: string | null, now: number, random: () => number): number {
  const asked = parseRetryAfter(retryAfter, now);
  return asked === null ? backoff(attempt, random) : Math.max(asked, BACKOFF_MIN_MS);
}
