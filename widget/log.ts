/** The widget's one logger: silent unless the embed asked for `data-debug`, always prefixed. */
export interface Logger {
  /** Says why something was ignored, dropped or failed; never throws. */
  warn(...args: unknown[]): void;
}

export function createLogger(enabled: boolean, sink: Pick<Console, 'warn'> = console): Logger {
  return {
    warn(...args) {
      if (!enabled) return;
      try {
        sink.warn('[parley]', ...args);
      } catch {
        /* a broken console must not break the host */
      }
    },
  };
}

/** A logger that discards everything, for tests and defaults. */
export const silent: Logger = { warn() {} };
