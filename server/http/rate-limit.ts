/**
 * Rate limits (issue 5): per client address and per site key on the public routes, per admin
 * key (and per address, so guessing keys is limited too) on the admin routes. Over the limit is
 * 429 with `Retry-After` in whole seconds, through the one error path.
 *
 * Fixed one-minute windows: a browser page sends a few requests an hour, so the defaults are
 * far above honest use and the boundary burst (up to twice the limit across a window edge)
 * does not matter. The decision is always local and synchronous, so a request never waits for
 * a database.
 *
 * - Alone (`windowCounter`, the embedded store): counts in memory, per process, reset on
 *   restart; each key's window starts at its first hit.
 * - Shared (`SharedLimits`, issue 8, with PostgreSQL): several collectors behind a load
 *   balancer must not allow N times the limit. Windows are aligned to the clock's minutes so
 *   that all collectors count the same window. Each collector keeps counting locally and,
 *   about once a second, adds its new hits to a shared total per (limit, key, window) in one
 *   round trip for all the keys touched since (the port core/rate-counts.ts, which
 *   engines/postgres/rate-counts.ts implements), learning the totals back. A key's count is
 *   then the shared total at the last sync plus the local hits since. So the limit holds
 *   across collectors to within the traffic that the others accept between two syncs. To keep
 *   that small under a flood, a key that gets a tenth of its limit since the last sync asks
 *   for a sync at once (one at a time per collector, never awaited by a request). When the
 *   database does not answer, the hits stay local and count there (as if alone, plus
 *   the last total known); they are added when it answers again.
 */
import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { DEFAULTS } from '../config.ts';
import type { AddHits } from '../core/rate-counts.ts';
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

/**
 * One key's window in a shared counter. Its count is `seen + sending + unsent`:
 * - seen: the total of all collectors at the last sync (our own hits sent until then included),
 * - sending: our hits in the sync in flight, not yet in `seen`,
 * - unsent: our hits since that sync started.
 */
interface Shared {
  start: number;
  seen: number;
  sending: number;
  unsent: number;
}

/** Hits drained from a counter for one sync. */
interface Drained {
  counter: SharedCounter;
  key: string;
  entry: Shared;
  hits: number;
}

class SharedCounter {
  private readonly windows = new Map<string, Shared>();
  /** Keys hit since the last sync: only those are sent. */
  private readonly touched = new Set<string>();
  /** Unsent hits on one key that ask for a sync before the timer's. */
  private readonly syncAt: number;

  constructor(
    readonly name: string,
    private readonly limit: number,
    private readonly clock: () => number,
    private readonly syncSoon: () => void,
  ) {
    this.syncAt = Math.max(1, Math.ceil(limit / 10));
  }

  /** As windowCounter's take: 0 within the limit, else the seconds until the window ends. */
  take(key: string): number {
    const now = this.clock();
    // Aligned to the clock, so that every collector counts the same window (one shared row).
    const start = now - (now % WINDOW_MS);
    let w = this.windows.get(key);
    if (!w || w.start !== start) {
      if (!w && this.windows.size >= SWEEP_AT) {
        for (const [k, v] of this.windows) if (v.start !== start) this.windows.delete(k);
      }
      this.windows.set(key, (w = { start, seen: 0, sending: 0, unsent: 0 }));
    }
    w.unsent++;
    this.touched.add(key);
    if (w.seen + w.sending + w.unsent <= this.limit) {
      // Many hits on one key since the last sync: the other collectors' may be adding up too.
      // Past the limit there is no need: the answer is already no.
      if (w.unsent >= this.syncAt) this.syncSoon();
      return 0;
    }
    return Math.max(1, Math.ceil((start + WINDOW_MS - now) / 1000));
  }

  /** Moves the unsent hits of the keys touched since the last sync into `out`, as sending. */
  drain(out: Drained[]): void {
    for (const key of this.touched) {
      const entry = this.windows.get(key);
      if (!entry || entry.unsent === 0) continue;
      out.push({ counter: this, key, entry, hits: entry.unsent });
      entry.sending += entry.unsent;
      entry.unsent = 0;
    }
    this.touched.clear();
  }

  /** The sync answered: `total` includes the hits sent. (A window replaced meanwhile is simply dropped.) */
  static merge(d: Drained, total: number): void {
    d.entry.sending -= d.hits;
    d.entry.seen = Math.max(d.entry.seen, total);
  }

  /** The sync failed: the hits were not added, so they are unsent again (and still counted). */
  static restore(d: Drained): void {
    d.entry.sending -= d.hits;
    d.entry.unsent += d.hits;
    d.counter.touched.add(d.key);
  }
}

export interface SharedLimitsOptions {
  clock: () => number;
  /** How often touched keys are synced, in ms. @default DEFAULTS.rateLimitSyncMs (config.ts) */
  intervalMs?: number;
  /** Called once when syncs start failing (the limits then count locally)... */
  onFailure?: (err: unknown) => void;
  /** ...and once when they work again. */
  onRecovery?: () => void;
  /** false: sync on the timer only, not early on a busy key (tests, measurements). @default true */
  syncEarly?: boolean;
}

/**
 * The counters of one collector whose limits are shared with other collectors through `add`
 * (see the top of this file). `start()` begins the periodic sync, `close()` stops it.
 */
export class SharedLimits {
  private readonly counters: SharedCounter[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private inFlight: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private failing = false;

  constructor(
    private readonly add: AddHits,
    private readonly o: SharedLimitsOptions,
  ) {}

  /** A counter for one limit; `name` is the same in every collector ('public.address', ...). */
  counter(name: string, limit: number): { take(key: string): number } {
    // Two counters of one name would send one row twice in a batch, which the database refuses.
    if (this.counters.some((c) => c.name === name)) throw new Error(`rate limit counter ${name} exists already`);
    // While the database is failing only the timer retries, not every hit on a busy key.
    const early =
      (this.o.syncEarly ?? true)
        ? () => {
            if (!this.failing) this.soon();
          }
        : () => {};
    const c = new SharedCounter(name, limit, this.o.clock, early);
    this.counters.push(c);
    return c;
  }

  start(): void {
    this.timer ??= setInterval(() => this.soon(), this.o.intervalMs ?? DEFAULTS.rateLimitSyncMs);
    // The limits must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  /** Syncs now, or right after the sync in flight: never two at once, never awaited by a request. */
  private soon(): void {
    if (this.closed) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = this.once().finally(() => {
      this.inFlight = undefined;
      if (this.again) {
        this.again = false;
        this.soon();
      }
    });
  }

  /** One sync, whatever is in flight first; resolves when done (tests, close). */
  async sync(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    this.soon();
    while (this.inFlight) await this.inFlight;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    while (this.inFlight) await this.inFlight;
  }

  private async once(): Promise<void> {
    // After the request that asked for it is answered; hits that arrive meanwhile go along.
    await new Promise((r) => setImmediate(r));
    const batch: Drained[] = [];
    for (const c of this.counters) c.drain(batch);
    if (batch.length === 0) return;
    try {
      const totals = await this.add(
        batch.map((d) => ({ name: d.counter.name, key: d.key, windowStart: d.entry.start, hits: d.hits })),
        this.o.clock(),
      );
      if (totals.length !== batch.length)
        throw new Error(`rate limit sync: ${totals.length} totals for ${batch.length} keys`);
      batch.forEach((d, i) => SharedCounter.merge(d, totals[i]));
      if (this.failing) {
        this.failing = false;
        this.o.onRecovery?.();
      }
    } catch (err) {
      // A database that is down must not fail requests: the hits count locally meanwhile.
      for (const d of batch) SharedCounter.restore(d);
      if (!this.failing) {
        this.failing = true;
        this.o.onFailure?.(err);
      }
    }
  }
}

const pass: RequestHandler = (_req, _res, next) => next();

function tooMany(seconds: number): HttpError {
  return new HttpError(429, 'rate_limited', `too many requests; retry in ${seconds} s`, [], seconds);
}

/** The client's address: the socket peer, or what `trust proxy` lets Express read. */
const addressOf = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

/** A counter shared with other collectors when `shared` is given, else this process's own. */
function counter(name: string, limit: number, clock: () => number, shared?: SharedLimits) {
  return shared ? shared.counter(name, limit) : windowCounter(limit, clock);
}

/** Public routes: runs after the site is loaded (res.locals.site) so a 429 carries CORS. */
export function publicRateLimit(limits: RateLimits, clock: () => number, shared?: SharedLimits): RequestHandler {
  if (!limits.enabled) return pass;
  const perAddress = counter('public.address', limits.addressPerMinute, clock, shared);
  const perSite = counter('public.site', limits.sitePerMinute, clock, shared);
  return (req, res, next) => {
    const wait = perAddress.take(addressOf(req)) || perSite.take((res.locals.site as Site).key);
    if (wait) throw tooMany(wait);
    next();
  };
}

/**
 * Admin routes: before authentication, so wrong keys are limited as well. `name` keeps another
 * keyed API's counts (the /v1 routes' write keys) apart from the admin API's.
 */
export function adminRateLimit(
  limits: RateLimits,
  clock: () => number,
  shared?: SharedLimits,
  name = 'admin',
): RequestHandler {
  if (!limits.enabled) return pass;
  const perKey = counter(`${name}.key`, limits.adminPerMinute, clock, shared);
  const perAddress = counter(`${name}.address`, limits.adminPerMinute, clock, shared);
  return (req, _res, next) => {
    const auth = req.headers.authorization ?? '';
    // The key itself is never kept, not even in memory: only a digest of it.
    const key = createHash('sha256').update(auth).digest('base64url');
    const wait = perAddress.take(addressOf(req)) || (auth ? perKey.take(key) : 0);
    if (wait) throw tooMany(wait);
    next();
  };
}
