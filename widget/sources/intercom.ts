/**
 * Follows Intercom on the page: `window.intercomSettings`, then every `Intercom('boot' | 'update'
 * | 'shutdown', ...)` call. `window.Intercom` is wrapped in a Proxy that sees each call and then
 * makes it unchanged — properties (the snippet's `q` queue) and `this` pass through — and stays
 * wrapped when Intercom's script replaces its stub with the real function (an accessor on
 * `window` wraps whatever is assigned). Where the page made `Intercom` unconfigurable the
 * current function is wrapped once.
 */
import { object, plain, type Data } from './plain.ts';

const WRAPPED = new WeakMap<object, unknown>();

export function followIntercom(win: Window, changed: (settings: Data) => void): void {
  const w = win as unknown as Record<string, unknown>;
  let settings = object(plain(w.intercomSettings));
  changed(settings);

  const observe = (args: unknown[]) => {
    const [command, arg] = args;
    // Without an argument, boot and update take what the page now has in intercomSettings.
    const patch = object(plain(arg === undefined ? w.intercomSettings : arg));
    if (command === 'shutdown') settings = {};
    else if (command === 'boot') settings = patch;
    else if (command === 'update') {
      // Another person in an update starts over: nothing of the previous one may stay.
      const other = (k: string) => patch[k] !== undefined && patch[k] !== settings[k];
      settings = other('user_id') || other('email') ? patch : { ...settings, ...patch };
    } else return;
    changed(settings);
  };

  const wrap = (fn: unknown) => {
    if (typeof fn !== 'function') return fn;
    let proxy = WRAPPED.get(fn);
    if (!proxy) {
      proxy = new Proxy(fn, {
        apply(target, self, args: unknown[]) {
          try {
            observe(args);
          } catch {
            /* never in the way of the page's call */
          }
          return Reflect.apply(target, self, args);
        },
      });
      WRAPPED.set(fn, proxy);
      WRAPPED.set(proxy as object, proxy); // wrapping our own wrapper is a no-op
    }
    return proxy;
  };

  let current = w.Intercom;
  try {
    Object.defineProperty(win, 'Intercom', {
      configurable: true,
      enumerable: true,
      get: () => wrap(current),
      set: (v) => {
        current = v;
      },
    });
  } catch {
    try {
      w.Intercom = wrap(current);
    } catch {
      /* read-only: the settings read at load is all we get */
    }
  }
}
