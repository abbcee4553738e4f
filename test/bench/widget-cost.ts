/**
 * Widget cost: bundle sizes; in headless Chromium, the main-thread time the widget's scripts
 * take on a page that loads it and identifies one user (trace events of the renderer's main
 * thread attributed to the script's URL: compile, evaluation, every call into it, its timers
 * and idle callbacks included, for 3 s after load), for widget.js both until the page first
 * went idle ("at load": what the page's own loading competes with) and in all; the same in a
 * browser without Temporal, where the time zone comes from Intl; the requests 100 identical
 * identifies and 10 changes within one second cause. The same page with
 * @segment/analytics-next (standalone) and posthog-js (array.js), each doing one identify, for
 * comparison.
 *
 * Every page comes from a local host server on its own port; Parley's widget.js and its
 * requests go to a real collector process whose site allows that origin; the peers' files come
 * from node_modules and their backends are answered locally with `{}` (by the host server or
 * Playwright's router), so no request leaves the machine.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { DIST, sizes } from '../../server/build.ts';
import { ROOT } from '../../server/paths.ts';
import { startCollector } from './proc.ts';
import { checkpoint, seedStore } from './seed.ts';
import { dumpEvents, firstIdle, mainThreadMs } from './trace.ts';

/** The host pages' origin: a local server on another port (loopback, like the collector, so
 * Chromium's private-network rules do not apply). Set when the server starts. */
let ORIGIN = '';
const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';
const SEGMENT_UMD = join(ROOT, 'node_modules/@segment/analytics-next/dist/umd');
const POSTHOG_DIST = join(ROOT, 'node_modules/posthog-js/dist');
const REPEATS = 5;

export interface LibCost {
  lib: string;
  /** What the page downloads for it (gzip -9 of each file it loaded from its own origin). */
  loaded_gzip_bytes: number;
  /** Median over REPEATS page loads. */
  main_thread_ms: number;
  main_thread_ms_runs: number[];
  requests: number;
}

export interface WidgetResult {
  /** When this step ran and the machine's load average then (1/5/15 min), at its start and end. */
  measured_at: string;
  load_average: { start: number[]; end: number[] };
  sizes: Record<string, { raw: number; gzip: number; brotli: number }>;
  libs: LibCost[];
  /** Main-thread ms of widget.js alone (median), without the launcher it loads from panel.js, first 3 s. */
  widget_js_main_thread_ms: number;
  /** The part of it before the page first went idle (median): the figure the 5 ms target is about. */
  widget_js_at_load_ms: number;
  /** The same two in a browser without Temporal (deleted before the page runs): the Intl path. */
  widget_js_no_temporal_ms: number;
  widget_js_no_temporal_at_load_ms: number;
  /**
   * Main-thread ms of the first `Intl.DateTimeFormat().resolvedOptions()` in a fresh page (median,
   * thread time of the inline script making it): the browser loading its locale data, paid by
   * whichever script asks first.
   */
  intl_first_call_ms: number;
  /** Identify requests for 100 identical identifies (one page). */
  requests_100_identical: number;
  /** Requests for 10 different people identified within one second (items they carried). */
  requests_10_changed: number;
  items_10_changed: number;
  /** Requests when one person's traits change 10 times within one second. */
  requests_10_updates_one_user: number;
}

const user = {
  id: '123',
  email: 'ann@acme.test',
  name: 'Ann',
  created_at: 1364406966,
  type: 'Owner',
  cf_persona: 'developer',
};
const account = {
  id: 'acme',
  name: 'Acme',
  created_at: 1364406966,
  monthly_rate: 99.5,
  ltv: 1495,
  plan: 'Team',
  cf_region: 'EU',
};

/** The script of /script.html (identifyRequests sets it before loading the page). */
let SCRIPT = '';

function pages(collector: string): Record<string, string> {
  const identity = JSON.stringify({
    ...user,
    account,
    app_version: '4.2.0',
    location: { country: 'DE', region: 'BE', city: 'Berlin' },
  });
  const shell = (head: string) =>
    `<!doctype html><html><head><meta charset="utf-8"><title>host</title>${head}</head><body><main><h1>Host app</h1><p>Some content.</p></main></body></html>`;
  return {
    '/none.html': shell(''),
    '/intl.html': shell(
      `<script>const t = performance.now(); Intl.DateTimeFormat().resolvedOptions().timeZone; document.title = String(performance.now() - t);</script>`,
    ),
    '/script.html': shell(
      `<script>window.Parley=[];${SCRIPT}</script><script async src="${collector}/widget.js" data-site="demo"></script>`,
    ),
    '/parley.html': shell(`<script>window.Parley=window.Parley||[];Parley.push(['identify',${identity}]);</script>
<script async src="${collector}/widget.js" data-site="demo"></script>`),
    '/segment.html':
      shell(`<script>window.analytics=window.analytics||[];analytics._writeKey='bench';analytics.push(['identify','123',${JSON.stringify({ ...user, id: undefined, company: account })}]);analytics.push(['page']);</script>
<script async src="${ORIGIN}/analytics.js/v1/bench/analytics.min.js"></script>`),
    '/posthog.html': shell(
      `<script async src="${ORIGIN}/ph/static/array.js" onload="posthog.init('phc_bench',{api_host:'${ORIGIN}/ph',autocapture:false,capture_pageview:true,disable_session_recording:true});posthog.identify('123',${JSON.stringify({ ...user, id: undefined })})"></script>`,
    ),
  };
}

/** What the host server answers for `url`: a page, a peer's file, or `{}` for their APIs. */
function answer(url: URL, collector: string): { type: string; body: Buffer } {
  const html = pages(collector)[url.pathname];
  if (html) return { type: 'text/html', body: Buffer.from(html) };
  const js = (path: string) => ({ type: 'application/javascript', body: readFileSync(path) });
  if (url.pathname === '/analytics.js/v1/bench/analytics.min.js') return js(join(SEGMENT_UMD, 'standalone.js'));
  const chunk = /\/analytics-next\/bundles\/([\w.-]+\.js)$/.exec(url.pathname);
  if (chunk && existsSync(join(SEGMENT_UMD, chunk[1]))) return js(join(SEGMENT_UMD, chunk[1]));
  if (url.pathname.endsWith('/settings')) {
    return {
      type: 'application/json',
      body: Buffer.from(
        JSON.stringify({ integrations: { 'Segment.io': { apiKey: 'bench' } }, plan: {}, edgeFunction: {} }),
      ),
    };
  }
  const static_ = /^\/ph\/static\/([\w.-]+\.js)$/.exec(url.pathname);
  if (static_ && existsSync(join(POSTHOG_DIST, static_[1]))) return js(join(POSTHOG_DIST, static_[1]));
  return { type: 'application/json', body: Buffer.from('{}') };
}

/** The local host server; `loaded` collects the scripts it served, per URL. */
async function hostServer(collector: () => string, loaded: Map<string, Buffer>): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', ORIGIN);
    const { type, body } = answer(url, collector());
    if (type === 'application/javascript') loaded.set(url.href, body);
    res.writeHead(200, { 'content-type': type, 'access-control-allow-origin': '*' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ORIGIN = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return server;
}

/** Requests to anywhere but loopback (the peers' CDNs and APIs) are answered like the host server would. */
async function route(context: BrowserContext, collector: string, loaded: Map<string, Buffer>) {
  await context.route(
    (url) => url.hostname !== '127.0.0.1',
    (r) => {
      const url = new URL(r.request().url());
      const { type, body } = answer(url, collector);
      if (type === 'application/javascript') loaded.set(url.href, body);
      return r.fulfill({ status: 200, contentType: type, body, headers: { 'access-control-allow-origin': '*' } });
    },
  );
}

/** widget.js alone (without the launcher in panel.js), per run: in all, and before the page was idle. */
const WIDGET_ONLY: Record<string, { total: number[]; atLoad: number[] }> = {};

const MATCH: Record<string, (url: string) => boolean> = {
  parley: (u) => /\/(widget|panel)\.js/.test(u),
  segment: (u) => /analytics/.test(u),
  posthog: (u) => /\/ph\//.test(u),
};

/** `lib`'s cost over REPEATS page loads; `noTemporal` deletes Temporal before the page runs. */
async function costOf(browser: Browser, collector: string, lib: string, noTemporal = false): Promise<LibCost> {
  const runs: number[] = [];
  const name = noTemporal ? `${lib} (no Temporal)` : lib;
  const widgetOnly = (WIDGET_ONLY[name] = { total: [] as number[], atLoad: [] as number[] });
  let bytes = 0;
  let requests = 0;
  for (let i = 0; i < REPEATS; i++) {
    const context = await browser.newContext();
    LOADED.clear();
    await route(context, collector, LOADED);
    if (noTemporal) await context.addInitScript(() => delete (globalThis as { Temporal?: unknown }).Temporal);
    const page = await context.newPage();
    let n = 0;
    let panel = false;
    page.on('request', (r) => {
      if (!r.url().endsWith('.html')) n++;
      if (r.url().endsWith('/panel.js')) panel = true;
      if (process.env.BENCH_DEBUG) console.error(lib, r.method(), r.url());
    });
    await browser.startTracing(page, {
      categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'v8'],
    });
    await page.goto(`${ORIGIN}/${lib}.html`, { waitUntil: 'load' });
    await page.waitForTimeout(3000);
    const trace = JSON.parse((await browser.stopTracing()).toString('utf8'));
    runs.push(+mainThreadMs(trace, MATCH[lib]).toFixed(2));
    if (lib === 'parley') {
      const widget = (u: string) => u.endsWith('/widget.js');
      widgetOnly.total.push(+mainThreadMs(trace, widget).toFixed(2));
      widgetOnly.atLoad.push(+mainThreadMs(trace, widget, -Infinity, firstIdle(trace)).toFixed(2));
      if (process.env.BENCH_DEBUG) dumpEvents(trace, MATCH[lib]);
    }
    requests = n;
    if (lib === 'parley')
      bytes = sizes(join(DIST, 'widget.js')).gzip + (panel ? sizes(join(DIST, 'panel.js')).gzip : 0);
    else bytes = [...LOADED.values()].reduce((s, b) => s + gzipLen(b), 0);
    await context.close();
  }
  return { lib: name, loaded_gzip_bytes: bytes, main_thread_ms: median(runs), main_thread_ms_runs: runs, requests };
}

const median = (xs: number[]) => +[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(2);
const gzipLen = (b: Buffer) => gzipSync(b, { level: 9 }).length;
/** Scripts the current page load got, from the host server or the router. */
const LOADED = new Map<string, Buffer>();

/** Opens the Parley page, runs `script` in it, and counts identify requests for 4 s. */
async function identifyRequests(
  browser: Browser,
  collector: string,
  script: string,
): Promise<{ requests: number; items: number }> {
  const context = await browser.newContext();
  await route(context, collector, new Map());
  SCRIPT = script;
  const page = await context.newPage();
  const seen = { requests: 0, items: 0 };
  page.on('request', (r) => {
    if (!r.url().includes('/identify')) return;
    seen.requests++;
    try {
      seen.items += JSON.parse(r.postData() ?? '{}').identities?.length ?? 0;
    } catch {
      /* counted as a request only */
    }
  });
  await page.goto(`${ORIGIN}/script.html`);
  await page.waitForTimeout(4000);
  await context.close();
  return seen;
}

export async function widgetBench(): Promise<WidgetResult> {
  const load = () => loadavg().map((l) => +l.toFixed(2));
  const result: WidgetResult = {
    measured_at: new Date().toISOString(),
    load_average: { start: load(), end: [] },
    sizes: {},
    libs: [],
    widget_js_main_thread_ms: NaN,
    widget_js_at_load_ms: NaN,
    widget_js_no_temporal_ms: NaN,
    widget_js_no_temporal_at_load_ms: NaN,
    intl_first_call_ms: NaN,
    requests_100_identical: NaN,
    requests_10_changed: NaN,
    items_10_changed: NaN,
    requests_10_updates_one_user: NaN,
  };
  for (const f of ['widget.js', 'widget.debug.js', 'panel.js']) result.sizes[f] = sizes(join(DIST, f));
  result.sizes['segment standalone.js'] = sizes(join(SEGMENT_UMD, 'standalone.js'));
  result.sizes['posthog-js array.js'] = sizes(join(POSTHOG_DIST, 'array.js'));
  let collectorUrl = '';
  const host = await hostServer(() => collectorUrl, LOADED);
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-widget-'));
  const store = await seedStore(dir, { users: 0, pending: 0 }, Date.now(), [ORIGIN]);
  await checkpoint(store);
  const collector = await startCollector(dir);
  collectorUrl = collector.url;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-quic',
      '--disable-sync',
    ],
  });
  try {
    for (const lib of ['parley', 'segment', 'posthog']) result.libs.push(await costOf(browser, collector.url, lib));
    result.libs.splice(1, 0, await costOf(browser, collector.url, 'parley', true));
    result.widget_js_main_thread_ms = median(WIDGET_ONLY.parley.total);
    result.widget_js_at_load_ms = median(WIDGET_ONLY.parley.atLoad);
    result.widget_js_no_temporal_ms = median(WIDGET_ONLY['parley (no Temporal)'].total);
    result.widget_js_no_temporal_at_load_ms = median(WIDGET_ONLY['parley (no Temporal)'].atLoad);
    const intl: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      // Thread time of the page's one inline script, which makes the call: wall time (its own
      // performance.now() figure, in the title) is inflated by other load on the machine.
      await browser.startTracing(page, { categories: ['devtools.timeline', 'v8.execute'] });
      await page.goto(`${ORIGIN}/intl.html`);
      const trace = JSON.parse((await browser.stopTracing()).toString('utf8'));
      intl.push(+mainThreadMs(trace, (u) => u.endsWith('/intl.html')).toFixed(2));
      await context.close();
    }
    result.intl_first_call_ms = median(intl);
    const same = JSON.stringify({ ...user, account });
    result.requests_100_identical = (
      await identifyRequests(
        browser,
        collector.url,
        `for (let i = 0; i < 100; i++) Parley.push(['identify', ${same}]);`,
      )
    ).requests;
    const changed = await identifyRequests(
      browser,
      collector.url,
      `let i = 0; const t = setInterval(() => { Parley.push(['identify', { id: 'p' + i, email: 'p' + i + '@acme.test', name: 'P ' + i }]); if (++i === 10) clearInterval(t); }, 90);`,
    );
    result.requests_10_changed = changed.requests;
    result.items_10_changed = changed.items;
    result.requests_10_updates_one_user = (
      await identifyRequests(
        browser,
        collector.url,
        `let i = 0; const t = setInterval(() => { Parley.push(['identify', { id: '123', email: 'ann@acme.test', cf_clicks: i }]); if (++i === 10) clearInterval(t); }, 90);`,
      )
    ).requests;
  } finally {
    await browser.close();
    await collector.stop();
    host.close();
    rmSync(dir, { recursive: true, force: true });
  }
  result.load_average.end = load();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.dir(await widgetBench(), { depth: 5 });
}
