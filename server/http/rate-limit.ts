/**
 * Rate limits (issue 5): per client address and per site key on the public routes, per admin
 * key (and per address, so guessing keys is limited too) on the admin routes. Over the limit is
 * 429 with `Retry-After` in whole seconds, through the one error path.
 *
 * Fixed one-minute windows counted in memory: a browser page sends a few requests an hour, so
 * the defaults are far above honest use and the boundary burst (up to twice the limit across a
 * window edge) does not matter. Counts are per process and reset on restart.
 */
import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Site } from '../core/records.ts';
import { HttpError } from './errors.ts';

export interface RateLimits {
  /** false turns every limit off (PARLEY_RATE_LIMIT=off, for benchmarks). */
  enabled: boolean;
  /** Public requests per minute from one client address. */
  addressPerMinute: number;
  /** Public requests per minute to one site key, from all addresses together. */
  sitePerMinute: number;
  /** Admin requests per minute with one admin key, and from one address. */
  adminPerMinute: number;
}

/** The defaults, also documented in config.ts and the README's Security section. */
export const DEFAULT_RATE_LIMITS: RateLimits = { enabled: true, addressPerMinute: 120, sitePerMinute: 6000, adminPerMinute: 600 };

const WINDOW_MS = 60_000;
/** Keys tracked before expired windows are swept: bounds memory under a flood of addresses. */
const SWEEP_AT = 50_000;

/**
 * Counts hits per key in fixed windows. `take(key)` counts one hit and returns 0 when it is
 * within `limit`, else the seconds until the key's window ends.
 */
export function windowCounter(limit: number, clock: () => number, windowMs = WINDOW_MS) {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    take(key: string): number {
      const now = clock();
      let w = windows.get(key);
      if (!w || now - w.start >= windowMs) {
        if (!w && windows.size >= SWEEP_AT) {
          for (const [k, v] of windows) if (now - v.start >= windowMs) windows.delete(k);
        }
        windows.set(key, (w = { start: now, count: 0 }));
      }
      if (++w.count <= limit) return 0;
      return Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
    },
  };
}

const pass: RequestHandler = (_req, _res, next) => next();

function tooMany(seconds: number): HttpError {
  return new HttpError(429, 'rate_limited', `too many requests; retry in ${seconds} s`, [], seconds);
}

/** The client's address: the socket peer, or what `trust proxy` lets Express read. */
const addressOf = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

/** Public routes: runs after the site is loaded (res.locals.site) so a 429 carries CORS. */
export function publicRateLimit(limits: RateLimits, clock: () => number): RequestHandler {
  if (!limits.enabled) return pass;
  const perAddress = windowCounter(limits.addressPerMinute, clock);
  const perSite = windowCounter(limits.sitePerMinute, clock);
  return (req, res, next) => {
    const wait = perAddress.take(addressOf(req)) || perSite.take((res.locals.site as Site).key);
    if (wait) throw tooMany(wait);
    next();
  };
}

/** Admin routes: before authentication, so wrong keys are limited as well. */
export function adminRateLimit(limits: RateLimits, clock: () => number): RequestHandler {
  if (!limits.enabled) return pass;
  const perKey = windowCounter(limits.adminPerMinute, clock);
  const perAddress = windowCounter(limits.adminPerMinute, clock);
  return (req, _res, next) => {
    const auth = req.headers.authorization ?? '';
    // The key itself is never kept, not even in memory: only a digest of it.
    const key = createHash('sha256').update(auth).digest('base64url');
    const wait = perAddress.take(addressOf(req)) || (auth ? perKey.take(key) : 0);
    if (wait) throw tooMany(wait);
    next();
  };
}
