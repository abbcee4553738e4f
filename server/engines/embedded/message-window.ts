/**
 * The client message ids already applied, kept only as long as a client can send one again:
 * the widget's outbox drops an item after OUTBOX_TTL_MS (shared/limits.ts), so a retry older
 * than that cannot arrive (docs/API.md#identify-semantics: a duplicate is applied once).
 *
 * Ids live in one Set per time bucket (a seventh of the window), so forgetting old ids drops
 * whole Sets instead of walking entries, and an id costs one Set slot and its string: no
 * timestamp, no object. An id is kept at least the full window after it was added (its
 * bucket goes only once the bucket's end is a window old), at most one bucket longer.
 */
import { flat } from './flat-string.ts';

export const WINDOW_BUCKETS = 7;

export class MessageWindow {
  /** Oldest first; `start` is a multiple of the bucket length. */
  private buckets: { start: number; keys: Set<string> }[] = [];
  private readonly bucketMs: number;

  constructor(private readonly windowMs: number) {
    this.bucketMs = Math.max(1, Math.ceil(windowMs / WINDOW_BUCKETS));
  }

  has(key: string): boolean {
    // Newest first: a retry is most likely recent.
    for (let i = this.buckets.length - 1; i >= 0; i--) if (this.buckets[i].keys.has(key)) return true;
    return false;
  }

  /** Remembers `key` as applied at `at`; returns the start of the bucket it went into. */
  add(key: string, at: number): number {
    // Callers build keys by concatenation; flat, a UUID's key costs ~90 B here instead of ~115.
    flat(key);
    const start = at - (at % this.bucketMs);
    let b = this.buckets[this.buckets.length - 1];
    if (!b || b.start < start) {
      this.buckets.push((b = { start, keys: new Set() }));
      this.expire(at);
    } else if (b.start > start) {
      // A clock that stepped back (or a replay of older entries): file it with its own bucket.
      b = this.buckets.find((x) => x.start === start) ?? b;
    }
    b.keys.add(key);
    return b.start;
  }

  /** Loads ids a checkpoint kept, in the bucket they were in. */
  load(start: number, keys: Iterable<string>): void {
    let b = this.buckets.find((x) => x.start === start);
    if (!b) {
      this.buckets.push((b = { start, keys: new Set() }));
      this.buckets.sort((x, y) => x.start - y.start);
    }
    for (const k of keys) b.keys.add(k);
  }

  /** Drops the buckets that ended a whole window before `now`; returns their starts. */
  expire(now: number): number[] {
    const gone: number[] = [];
    while (this.buckets.length > 0 && this.buckets[0].start + this.bucketMs + this.windowMs <= now)
      gone.push(this.buckets.shift()!.start);
    return gone;
  }

  /** The start of the bucket holding `key`, or undefined. */
  bucketOf(key: string): number | undefined {
    for (let i = this.buckets.length - 1; i >= 0; i--) if (this.buckets[i].keys.has(key)) return this.buckets[i].start;
    return undefined;
  }

  /** Bucket starts, oldest first. */
  starts(): number[] {
    return this.buckets.map((b) => b.start);
  }

  keysOf(start: number): string[] {
    return [...(this.buckets.find((b) => b.start === start)?.keys ?? [])];
  }

  get size(): number {
    let n = 0;
    for (const b of this.buckets) n += b.keys.size;
    return n;
  }

  /** [id, bucket start] pairs (tests compare stores by them). */
  *entries(): IterableIterator<[string, number]> {
    for (const b of this.buckets) for (const k of b.keys) yield [k, b.start];
  }
}
