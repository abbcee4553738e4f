/**
 * The outbox: every identity and piece of feedback waiting to be delivered, persisted in
 * storage under a versioned per-site key so that a reload, a crash or a closed tab re-sends
 * it on the next page load. Bounded three ways — items, bytes and age — because a page that
 * can never reach the collector must not fill the user's storage (peers that did not bound
 * theirs hit QuotaExceeded; see docs/DESIGN.md#measured-facts). When over a bound, the oldest items go first.
 */
import { OUTBOX_TTL_MS } from '../shared/limits.ts';
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
  /** @default OUTBOX_TTL_MS (7 days, shared/limits.ts) */ ttlMs: number;
}

export const OUTBOX_LIMITS: OutboxLimits = { maxItems: 100, maxBytes: 256 * 1024, ttlMs: OUTBOX_TTL_MS };

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
  return typeof i?.id === 'string' && typeof i.key === 'string' && typeof i.at === 'number' && !!i.data;
};

export function createOutbox(opts: {
  storage: KV;
  key: string;
  clock: () => number;
  limits?: Partial<OutboxLimits>;
}): Outbox {
  const { storage, key, clock } = opts;
  const limits = { ...OUTBOX_LIMITS, ...opts.limits };
  const fresh = (i: Item) => clock() - i.at < limits.ttlMs;
  const load = (): Item[] => {
    const saved = parse(storage.get(key)) as { v?: number; items?: unknown[] } | undefined;
    return saved?.v === 1 && Array.isArray(saved.items) ? saved.items.filter(isItem) : [];
  };
  let items = load().filter(fresh);
  /** Ids this page delivered, dropped or replaced: never to be merged back in. */
  const gone = new Set<string>();

  /**
   * Merges in what other tabs wrote since we read (a duplicate is harmless: the message_id
   * makes delivery idempotent; a lost item is not), keeps the latest identity per user, drops
   * expired and oldest items until within bounds, then persists.
   */
  const commit = (): Item[] => {
    const known = new Set(items.map((i) => i.id));
    const all = [...load().filter((i) => !known.has(i.id) && !gone.has(i.id)), ...items].sort((a, b) => a.at - b.at);
    const latest = new Map(all.filter((i) => i.kind === 'identify').map((i) => [i.key, i.id]));
    items = all.filter((i) => i.kind !== 'identify' || latest.get(i.key) === i.id);
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
    dropped.forEach((i) => gone.add(i.id));
    return dropped;
  };

  return {
    add(item) {
      if (item.kind === 'identify') {
        const replaced = items.filter((i) => i.kind === 'identify' && i.key === item.key);
        replaced.forEach((i) => gone.add(i.id));
        items = items.filter((i) => !gone.has(i.id));
      }
      items.push(item);
      return commit();
    },
    remove(ids) {
      ids.forEach((id) => gone.add(id));
      items = items.filter((i) => !gone.has(i.id));
      commit();
    },
    list: () => items.filter(fresh),
    find: (kind, k) => items.find((i) => i.kind === kind && i.key === k && fresh(i)),
  };
}
