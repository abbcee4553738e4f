/**
 * Reads the embed (docs/API.md#embedding): the widget's own `<script>` tag gives the collector
 * origin (from `src`), the site key (`data-site`), the global name (`data-global`) and whether
 * to read other tools' identities (`data-identify-from`);
 * `<script type="application/json" data-parley>` blocks give the same declaratively, for pages
 * whose CSP forbids inline script. Messages are not configured here: they are a build
 * (widget.debug.js, see log.ts). Pure: takes the document, returns data.
 */
import { isObject, parse } from './json.ts';

export interface EmbedConfig {
  site: string;
  /** The collector's origin, where the API lives. */
  origin: string;
  /** Absolute URL of widget.js: the lazily loaded chunks sit beside it. */
  base: string;
  /** The command-queue global. @default 'Parley' */
  global: string;
  /** The nonce of our script tag, reused for the panel script and fallback `<style>`. */
  nonce: string;
  /** Identities from JSON blocks, applied before the queue. */
  identify: unknown[];
  /**
   * Which tools to read identities from (`data-identify-from`, `identify_from`), unchecked: set,
   * widget.js loads sources.js, which reads the embed itself (keeping that code out of here).
   */
  from?: unknown;
  settings: Record<string, unknown>;
  /** Bad JSON blocks, reported once the logger exists. */
  problems: string[];
}

/** Our own script tag: `currentScript` while the bundle runs, else the first tag loading widget.js or widget.debug.js. */
export function findScript(doc: Document): HTMLScriptElement | null {
  const current = doc.currentScript as HTMLScriptElement | null;
  if (current?.src) return current;
  return doc.querySelector('script[src*="widget.js"],script[src*="widget.debug.js"]');
}

export function readConfig(doc: Document, script: HTMLScriptElement | null): EmbedConfig {
  const config: EmbedConfig = {
    site: '',
    origin: '',
    base: '',
    global: 'Parley',
    nonce: '',
    identify: [],
    settings: {},
    problems: [],
  };
  doc.querySelectorAll('script[type="application/json"][data-parley]').forEach((el, n) => {
    const block = parse(el.textContent);
    if (!isObject(block)) {
      if (__DEBUG__) config.problems.push(`JSON config block ${n} ignored: not an object`);
      return;
    }
    if (typeof block.site === 'string') config.site = block.site;
    if (isObject(block.settings)) Object.assign(config.settings, block.settings);
    if (block.identify !== undefined) config.identify.push(block.identify);
    config.from = block.identify_from ?? config.from;
  });
  if (typeof config.settings.global === 'string') config.global = config.settings.global;
  if (script) {
    const data = script.dataset;
    if (data.site) config.site = data.site;
    if (data.global) config.global = data.global;
    config.from = data.identifyFrom ?? config.from;
    config.nonce = script.nonce || script.getAttribute('nonce') || '';
    try {
      const src = new URL(script.src, doc.baseURI);
      config.origin = src.origin;
      config.base = src.href;
    } catch {
      if (__DEBUG__) config.problems.push('bad script src');
    }
  }
  return config;
}
