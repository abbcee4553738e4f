/**
 * Wires the widget together for one page: config → logger → command queue → page lifecycle at
 * load; client and commands once the page is idle; the UI from panel.js when it is needed.
 * Every collaborator that touches the outside world can be handed in, so tests boot the real
 * thing against a fake transport and an in-process panel.
 */
import { createClient, type Client } from './client.ts';
import { findScript, readConfig } from './config.ts';
import { environment } from './identity.ts';
import { createLogger, silent, type Logger } from './log.ts';
import { chunkLoader } from './panel-loader.ts';
import type { PanelModule, SourcesModule, Ui } from './protocol.ts';
import { claimQueue, createRunner, runQueue, type Handlers } from './queue.ts';
import { browserStorage, createStorage } from './storage.ts';
import { createTransport, type Transport } from './transport.ts';

export interface BootOptions {
  win: Window;
  script?: HTMLScriptElement | null;
  transport?: Transport;
  storage?: () => Storage | null;
  loadPanel?: () => Promise<PanelModule>;
  /** @default the console in widget.debug.js (and tests), nothing in widget.js */
  log?: Logger;
  /** @default 1000 */
  batchDelayMs?: number;
}

export interface Widget {
  /** Starts now instead of when the page is idle (tests use it); answers the client. */
  start(): Client;
  /** The mounted UI, loading panel.js first if needed. */
  ui(): Promise<Ui>;
}

/** Boots the widget; null when it cannot (no site key, or another copy already runs). */
export function boot(opts: BootOptions): Widget | null {
  const { win } = opts;
  const doc = win.document;
  const batchDelayMs = opts.batchDelayMs ?? 1000;
  const config = readConfig(doc, opts.script === undefined ? findScript(doc) : opts.script);
  const log = opts.log ?? createLogger();
  /** `fn` as a callback of ours (event, timer, idle): it never throws into the page. */
  const guard =
    <A extends unknown[]>(what: string, fn: (...args: A) => void) =>
    (...args: A) => {
      try {
        fn(...args);
      } catch (e) {
        if (__DEBUG__) log.warn(what, e);
      }
    };
  const rIC = (win as { requestIdleCallback?: (cb: () => void, o?: object) => void }).requestIdleCallback;
  /** Runs `fn` once the browser is idle, `timeoutMs` at the latest (after `timeoutMs` where it cannot tell). */
  const whenIdle = (fn: () => void, timeoutMs: number) =>
    rIC ? rIC(guard('idle', fn), { timeout: timeoutMs }) : win.setTimeout(guard('idle', fn), timeoutMs);
  if (__DEBUG__) config.problems.forEach((p) => log.warn(p));
  if (!config.site || !config.origin) {
    if (__DEBUG__) log.warn('no site key or collector origin; staying off');
    return null;
  }
  const queue = claimQueue(win, config.global, log);
  if (!queue) {
    if (__DEBUG__) log.warn('already running; this copy stays off');
    return null;
  }

  const load = opts.loadPanel ?? chunkLoader<PanelModule>(win, 'panel', config.base, config.nonce);
  const domReady = new Promise<void>((resolve) => {
    if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', () => resolve());
    else resolve();
  });
  /** Settings given so far; panel.js validates them when it mounts. */
  const settings: Record<string, unknown> = {};
  let mounted: Ui | undefined;
  let mounting: Promise<Ui> | undefined;
  const ui = (): Promise<Ui> =>
    (mounting ??= Promise.all([load(), domReady])
      .then(([mod]) => {
        mounted = mod.mount({
          doc,
          nonce: config.nonce,
          log,
          props: (mode, close) => {
            const client = start();
            return {
              mode,
              needsEmail: !client.identity(),
              submit: client.sendFeedback,
              searchIdeas: client.searchIdeas,
              close,
            };
          },
        });
        mounted.set(settings);
        return mounted;
      })
      .catch((e) => {
        mounting = undefined; // a later command may try again
        throw e;
      }));
  const withUi = (fn: (ui: Ui) => void) =>
    void ui()
      .then(fn)
      .catch((e) => {
        if (__DEBUG__) log.warn('panel unavailable', e);
      });

  /** Set once the page's commands have run; before that the idle launch decides about the launcher. */
  let booted = false;
  const set = (patch: unknown, value?: unknown) => {
    const object = typeof patch === 'string' ? { [patch]: value } : patch;
    if (typeof object !== 'object' || !object) {
      if (__DEBUG__) log.warn('set takes an object or a key and value');
      return;
    }
    Object.assign(settings, object);
    if (mounted) mounted.set(object as Record<string, unknown>);
    else if ((object as { launcher?: unknown }).launcher === true && booted) withUi(() => {}); // turned on later
  };
  /** Selector triggers and their options (e.g. `{mode: 'contact'}`). */
  const triggers = new Map<string, unknown>();

  let client: Client | undefined;
  /**
   * Starts the widget: the client (which reads what earlier pages left in the outbox), then the
   * page's commands — settings and identities from JSON blocks, the queue, every later push at
   * once. Nothing at load needs any of it (the first localStorage read costs milliseconds, an
   * identify's first Intl call ~50 ms), so this waits for the page to be idle — the batch delay
   * at the latest — unless the page hides first, when what it identified must leave with a beacon.
   */
  const start = (): Client => {
    if (client) return client;
    const c = (client = createClient({
      site: config.site,
      origin: config.origin,
      transport: opts.transport ?? createTransport(win),
      storage: createStorage(opts.storage ?? browserStorage(win), log),
      log,
      env: environment,
      pageUrl: () => win.location.href,
      batchDelayMs,
    }));
    const handlers: Handlers = {
      identify: c.identify,
      logout: c.logout,
      set,
      show: (mode?: unknown) => withUi((u) => u.open(mode)),
      hide: () => mounted?.close(),
      autoprompt: () => withUi((u) => u.open('nps')),
      addTrigger(target: unknown, options?: unknown) {
        if (typeof target !== 'string') return set({ ...(target as object), launcher: true });
        doc.querySelector(target); // throws on a malformed selector now, not on every click
        triggers.set(target, options);
      },
    };
    const run = createRunner(handlers, log);
    set(config.settings);
    config.identify.forEach((identity) => run(['identify', identity]));
    runQueue(queue, run);
    booted = true;
    // Identities another tool left on the page (docs/API.md#already-using-segment-or-intercom),
    // below the page's own identify: sources.js watches `handlers` for it (protocol.ts).
    if (config.from)
      chunkLoader<SourcesModule>(win, 'sources', config.base, config.nonce)()
        .then((m) => m.watch(win, c, handlers))
        .catch(__DEBUG__ ? (e) => log.warn('sources unavailable', e) : () => {});
    return c;
  };
  whenIdle(start, batchDelayMs);

  const on = (target: EventTarget, type: string, fn: (e: Event) => void) =>
    target.addEventListener(type, guard(type, fn));
  // Delegated, so trigger elements added to the page later work too.
  on(doc, 'click', (event) => {
    const target = event.target as Element | null;
    for (const [selector, options] of triggers) {
      if (!target?.closest?.(selector)) continue;
      event.preventDefault();
      return withUi((u) => u.open(options));
    }
  });
  const hide = () => start().flushOnHide();
  on(win, 'pagehide', hide);
  on(doc, 'visibilitychange', () => (doc.visibilityState === 'hidden' ? hide() : client?.resume()));
  on(win, 'online', () => void client?.flush());
  // The launcher comes with panel.js: fetch it once the page has settled, unless it is turned off.
  const launch = () => {
    start();
    if (settings.launcher !== false) withUi(() => {});
  };
  void domReady.then(() => whenIdle(launch, rIC ? 5000 : 2000));

  return { start, ui };
}
