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
  // Values whose write to disk failed. Everything else is read from disk each time, so other
  // tabs' writes are seen.
  const memory = new Map<string, string | null>();
  const attempt = (fn: (s: Storage) => unknown): boolean => {
    try {
      const s = local();
      if (s) fn(s);
      return !!s;
    } catch (e) {
      if (__DEBUG__) log.warn('storage failed; using memory', e);
      return false;
    }
  };
  const write = (key: string, value: string | null) => {
    if (attempt((s) => (value === null ? s.removeItem(key) : s.setItem(key, value)))) memory.delete(key);
    else memory.set(key, value);
  };
  return {
    get(key) {
      if (memory.has(key)) return memory.get(key) ?? null;
      let value: string | null = null;
      attempt((s) => {
        value = s.getItem(key);
      });
      return value;
    },
    set: write,
    remove: (key) => write(key, null),
  };
}

/** localStorage, or null when merely touching it throws. */
export function browserStorage(win: Window): () => Storage | null {
  return () => win.localStorage;
}
