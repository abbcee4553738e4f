/**
 * The identify throttle (docs/API.md#how-the-widget-delivers): remembers, per user id, the fingerprint of the last
 * identity the collector acknowledged with a 2xx, across page loads. An identity with the same
 * fingerprint is not sent again for 24 h. Recording only after a 2xx means a lost request can
 * never suppress a later one.
 */
import { IDENTIFY_THROTTLE_MS } from '../shared/limits.ts';
import { parse, stringify } from './json.ts';
import type { KV } from './storage.ts';

/** Users remembered per site: a shared computer sees a handful, never hundreds. @default 20 */
export const ACKS_MAX = 20;

export interface Acks {
  /** True when this exact content was acknowledged for this user within the throttle window. */
  fresh(user: string, fp: string): boolean;
  record(user: string, fp: string): void;
}

type Entry = [user: string, fp: string, at: number];

export function createAcks(opts: { storage: KV; key: string; clock: () => number }): Acks {
  const { storage, key, clock } = opts;
  const load = (): Entry[] => {
    const data = parse(storage.get(key));
    return Array.isArray(data) ? data.filter((e): e is Entry => Array.isArray(e) && e.length === 3) : [];
  };
  return {
    fresh(user, fp) {
      const now = clock();
      return load().some(([u, f, at]) => u === user && f === fp && now - at < IDENTIFY_THROTTLE_MS && at <= now);
    },
    record(user, fp) {
      const entries = load().filter(([u]) => u !== user);
      entries.push([user, fp, clock()]);
      storage.set(key, stringify(entries.slice(-ACKS_MAX)));
    },
  };
}
