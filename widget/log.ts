/**
 * The widget's one logger, and the build flag that decides whether there is anything to log.
 *
 * Messages that explain an ignored call or a dropped item help while integrating, not on every
 * page load, so they are a build rather than a payload (as Preact keeps its warnings in
 * `preact/debug`): each one sits behind `if (__DEBUG__)`. `__DEBUG__` is a build-time constant,
 * not an import, because esbuild drops a branch only when the module itself sees the constant
 * (an imported `false` is inlined after dead code is removed, leaving `!1` in every place):
 * server/build.ts defines it false for widget.js and true for widget.debug.js, and
 * vitest.config.ts true for the tests. panel.js and sources.js never read it; the panel's few
 * messages go through the logger widget.js hands it, which is silent in widget.js.
 */
declare global {
  /** True in widget.debug.js and in tests; false in widget.js. */
  const __DEBUG__: boolean;
}

export interface Logger {
  /** Says why something was ignored, dropped or failed; never throws. */
  warn(...args: unknown[]): void;
}

/**
 * A logger that writes to `sink` (the console) with the `[parley]` prefix; in widget.js the
 * silent one, so the console code itself is left out too.
 */
export function createLogger(sink: Pick<Console, 'warn'> = console): Logger {
  if (!__DEBUG__) return silent;
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
