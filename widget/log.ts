/**
 * The widget's one logger, and the build flag that decides whether there is anything to log.
 *
 * Messages that explain an ignored call or a dropped item help while integrating, not on every
 * page load, so they are a build rather than a payload (as Preact keeps its warnings in
 * `preact/debug`): each one sits behind `if (DEBUG)`. server/build.ts builds widget.js with
 * `__DEBUG__` false, and the minifier drops those branches with their strings; widget.debug.js
 * with it true, and it prints every message. Tests run the source, where `__DEBUG__` is not
 * defined: messages on. panel.js is one build for both; its few messages go through the logger
 * widget.js hands it, which is silent in widget.js.
 */
declare const __DEBUG__: boolean | undefined;

/** True in widget.debug.js (and in tests); false in widget.js. */
export const DEBUG: boolean = typeof __DEBUG__ === 'undefined' || __DEBUG__;

export interface Logger {
  /** Says why something was ignored, dropped or failed; never throws. */
  warn(...args: unknown[]): void;
}

/**
 * A logger that writes to `sink` (the console) with the `[parley]` prefix; in widget.js the
 * silent one, so the console code itself is left out too.
 */
export function createLogger(sink: Pick<Console, 'warn'> = console): Logger {
  if (!DEBUG) return silent;
  return {
    warn(...args) {
      try {
        sink.warn('[parley]', ...args);
      } catch {
        /* a broken console must not break the host */
      }
    },
  };
}

/** A logger that discards everything: widget.js's, and the default in tests. */
export const silent: Logger = { warn() {} };
