/**
 * The outbox: every identity and piece of feedback waiting to be delivered, persisted in
 * storage under a versioned per-site key so that a reload, a crash or a closed tab re-sends
 * it on the next page load. Bounded three ways — items, bytes and age — because a page that
 * can never reach the collector must not fill the user's storage (peers that did not bound
 * theirs hit QuotaExceeded; see FIELD-NOTES). When over a bound, the oldest items go first.
 */
import { parse, stringify } from './json.ts';
import type { KV } from './storage.ts';

export type ItemKind = 'identify' | 'feedback';

/** One unit of delivery. `id` is the message_id, minted once, kept across retries and reloads. */
export interface Item {
  id: string;
  kind: ItemKind;
  /** Coalescing key: the user id for identities (latest wins), the message_id for feedback. */
  key: string;
  /** Content fingerprint of an identity, recorded as acknowledged after a 2xx. */
  fp?: string;
  /** When the item was observed (ms); sent as observed_at and used for the TTL. */
  at: number;
  data: Record<string, unknown>;
}

export interface OutboxLimits {
  /** @default 100 */ maxItems: number;
  /** @default 256 KiB — well under the 5 MB origins usually get. */ maxBytes: number;
  /** @default 7 days — Safari erases script storage after 7 idle days anyway. */ ttlMs: number;
}

export const OUTBOX_LIMITS: OutboxLimits = { maxItems: 100, maxBytes: 256 * 1024, ttlMs: 7 * 864e5 };

export interface Outbox {
  /** Adds an item; an identity replaces any queued identity of the same user. Returns what was dropped. */
  add(item: Item): Item[];
  remove(ids: readonly string[]): void;
  list(): Item[];
  /** The queued identity for a user, if any. */
  find(kind: ItemKind, key: string): Item | undefined;
}

const isItem = (v: unknown): v is Item => {
  const i = v as Item;
  return !!i && typeof i.id === 'string' && (i.kind === 'identify' || i.kind === 'feedback')
    && typeof i.key === 'string' && typeof i.at === 'number' && typeof i.data === 'object' && !!i.data;
};

export function createOutbox(opts: { storage: KV; key: string; clock: () => number; limits?: Partial<OutboxLimits> }): Outbox {
  const { storage, key, clock } = opts;
  const limits = { ...OUTBOX_LIMITS, ...opts.limits };
  const fresh = (i: Item) => clock() - i.at < limits.ttlMs;
  const saved = parse(storage.get(key)) as { v?: number; items?: unknown[] } | undefined;
  let items: Item[] = saved?.v === 1 && Array.isArray(saved.items) ? saved.items.filter(isItem).filter(fresh) : [];

  /** Drops expired and oldest items until within bounds, then persists. */
  const commit = (): Item[] => {
    const dropped = items.filter((i) => !fresh(i));
    items = items.filter(fresh);
    while (items.length > limits.maxItems) dropped.push(items.shift()!);
    let text = stringify({ v: 1, items });
    while (items.length && text.length > limits.maxBytes) {
      dropped.push(items.shift()!);
      text = stringify({ v: 1, items });
    }
    if (items.length) storage.set(key, text);
    else storage.remove(key);
    return dropped;
  };

  return {
    add(item) {
      items = items.filter((i) => !(item.kind === 'identify' && i.kind === 'identify' && i.key === item.key));
      items.push(item);
      return commit();
    },
    remove(ids) {
      const before = items.length;
      items = items.filter((i) => !ids.includes(i.id));
      if (items.length !== before) commit();
    },
    list: () => items.filter(fresh),
    find: (kind, k) => items.find((i) => i.kind === kind && i.key === k && fresh(i)),
  };
}
