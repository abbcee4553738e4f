/**
 * Key-value storage that never throws. localStorage can be missing, throw SecurityError on
 * access (sandboxed iframes, blocked cookies) or QuotaExceededError on write; in every such case
 * the value lives on in memory for the rest of the page, which is the best we can do.
 */
import type { Logger } from './log.ts';

export interface KV {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

export function createStorage(local: () => Storage | null | undefined, log: Logger): KV {
  // Memory mirrors every write of this page, so reads are right even when the disk write failed.
  const memory = new Map<string, string | null>();
  const attempt = <T>(what: string, fn: (s: Storage) => T): T | undefined => {
    try {
      const s = local();
      return s ? fn(s) : undefined;
    } catch (e) {
      log.warn(`storage ${what} failed; using memory`, e);
      return undefined;
    }
  };
  return {
    get(key) {
      if (memory.has(key)) return memory.get(key) ?? null;
      return attempt('read', (s) => s.getItem(key)) ?? null;
    },
    set(key, value) {
      memory.set(key, value);
      attempt('write', (s) => s.setItem(key, value));
    },
    remove(key) {
      memory.set(key, null);
      attempt('remove', (s) => s.removeItem(key));
    },
  };
}

/** localStorage, or null when merely touching it throws. */
export function browserStorage(win: Window): () => Storage | null {
  return () => win.localStorage;
}
