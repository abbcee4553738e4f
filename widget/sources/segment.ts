/**
 * Follows Segment's analytics.js (analytics-next) on the page: what it persisted — the user id
 * and traits, the group id and traits, under the keys and in the JSON encoding analytics.js
 * uses: localStorage first, then cookies, as its UniversalStorage reads them — and then its
 * `identify`, `group` and `reset` events. `reset` signs the person out here too.
 */
import { decode, plain } from './plain.ts';
import type { SegmentState } from './map.ts';

/** The keys analytics-next persists under (core/user/index.js: `User.defaults`, `groupDefaults`). */
const KEYS = {
  userId: 'ajs_user_id',
  traits: 'ajs_user_traits',
  groupId: 'ajs_group_id',
  groupTraits: 'ajs_group_properties',
};

/** One cookie's value, URI-decoded as js-cookie (which analytics.js writes with) decodes it. */
function cookie(doc: Document, name: string): string | undefined {
  for (const part of doc.cookie.split('; ')) {
    const eq = part.indexOf('=');
    if (part.slice(0, eq) !== name) continue;
    const value = part.slice(eq + 1);
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

/** One persisted value: localStorage, else the cookie; nothing when reading throws. */
function read(win: Window, key: string): unknown {
  let value: unknown;
  try {
    value = decode(win.localStorage.getItem(key));
  } catch {
    /* storage blocked: try the cookie */
  }
  if (value === undefined || value === null) {
    try {
      value = decode(cookie(win.document, key));
    } catch {
      /* cookies blocked */
    }
  }
  return plain(value);
}

/** What analytics.js persisted, read now. */
export function readSegment(win: Window): SegmentState {
  return {
    userId: read(win, KEYS.userId),
    traits: read(win, KEYS.traits),
    groupId: read(win, KEYS.groupId),
    groupTraits: read(win, KEYS.groupTraits),
  };
}

/** How often, and how many times, to look for `window.analytics` when the page loads it after us. */
const POLL_MS = 500;
const POLL_TIMES = 20;

/**
 * Calls `changed` with Segment's state now and after every identify, group or reset. Listens on
 * `window.analytics` (or the global the snippet named) — the snippet's stub buffers `on` and `ready` calls and analytics.js replays
 * them, so it works before analytics.js has loaded — and looks for it for 10 s if the page has
 * not defined it yet.
 */
export function followSegment(win: Window, changed: (state: SegmentState) => void): void {
  let state = readSegment(win);
  changed(state);
  const update = (patch: SegmentState) => {
    state = { ...state, ...patch };
    changed(state);
  };
  const safe =
    (fn: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      try {
        fn(...args);
      } catch {
        /* a page's analytics must never see us fail */
      }
    };
  let tries = 0;
  const hook = safe(() => {
    const analytics = (win as unknown as Record<string, Record<string, unknown> | undefined>)[globalName(win)];
    if (typeof analytics?.on !== 'function') {
      if (++tries < POLL_TIMES) win.setTimeout(hook, POLL_MS);
      return;
    }
    const on = analytics.on as (event: string, fn: (...args: unknown[]) => void) => void;
    // The event carries the whole state after the call: analytics.js merges traits itself.
    on.call(
      analytics,
      'identify',
      safe((userId, traits) => update({ userId: plain(userId), traits: plain(traits) })),
    );
    on.call(
      analytics,
      'group',
      safe((groupId, traits) => update({ groupId: plain(groupId), groupTraits: plain(traits) })),
    );
    on.call(
      analytics,
      'reset',
      safe(() => update({ userId: undefined, traits: undefined, groupId: undefined, groupTraits: undefined })),
    );
    // Calls the page made before analytics.js loaded may have run before our listeners: ask it.
    if (typeof analytics.ready === 'function')
      (analytics.ready as (fn: () => void) => void).call(
        analytics,
        safe(() => update(fromInstance(win))),
      );
  });
  hook();
}

/**
 * The global analytics.js lives in: `analytics`, unless the snippet renamed it, which it marks on
 * the script tag that loads analytics.js (analytics-next: `data-global-segment-analytics-key`).
 */
function globalName(win: Window): string {
  const tag = win.document.querySelector('script[data-global-segment-analytics-key]') as HTMLScriptElement | null;
  return tag?.dataset.globalSegmentAnalyticsKey || 'analytics';
}

/**
 * The state the loaded analytics.js holds (`analytics.user()`, `analytics.group()`), which is
 * right whatever storage the page configured; what it persisted when that fails.
 */
function fromInstance(win: Window): SegmentState {
  try {
    const a = (win as any)[globalName(win)];
    const user = a.user();
    const group = a.group();
    return {
      userId: plain(user.id()),
      traits: plain(user.traits()),
      groupId: plain(group.id()),
      groupTraits: plain(group.traits()),
    };
  } catch {
    return readSegment(win);
  }
}
