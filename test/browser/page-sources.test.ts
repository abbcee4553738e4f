/**
 * Identities read from the page in real Chromium against the real collector
 * (docs/API.md#already-using-segment-or-intercom): Segment's real analytics.js build (the
 * standalone bundle of @segment/analytics-next, loaded by Segment's snippet from its CDN URL,
 * which the browser context serves from node_modules: the network is offline) and a page-level
 * `intercomSettings` each identify a person with no `Parley.push`, then switch person in the same
 * page, and the collector stores each. An Intercom `user_hash` made with the site's identity
 * secret arrives verified.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { sourceOfVersion } from '../../server/http/provenance.ts';
import { ROOT } from '../../server/paths.ts';
import { userHash } from '../../server/sign.ts';
import { describeBrowser, launchBrowser, watch } from '../helpers/browser.ts';
import { serveFixtures } from '../helpers/browser-fixtures.ts';
import { startCollector, type TestCollector } from '../helpers/collector.ts';
import { addSite } from '../helpers/hostile.ts';

const SEGMENT_UMD = join(ROOT, 'node_modules/@segment/analytics-next/dist/umd');
const WRITE_KEY = 'wk_test_0123';

let browser: Browser;
let collector: TestCollector;
let site: Awaited<ReturnType<typeof serveFixtures>>;
let context: BrowserContext;
let verified: { site_key: string; identity_secret: string };

const page = (body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"></head><body><h1>Host app</h1>${body}</body></html>`;
const embed = (siteKey: string, from: string) =>
  `<script async src="${collector.url}/widget.js" data-site="${siteKey}" data-identify-from="${from}"></script>`;

/** Segment's analytics.js snippet (5.2.0), as its docs give it, with the test write key. */
const segmentSnippet = `<script>
!function(){var i="analytics",analytics=window[i]=window[i]||[];if(!analytics.initialize)if(analytics.invoked)window.console&&console.error&&console.error("Segment snippet included twice.");else{analytics.invoked=!0;analytics.methods=["trackSubmit","trackClick","trackLink","trackForm","pageview","identify","reset","group","track","ready","alias","debug","page","screen","once","off","on","addSourceMiddleware","addIntegrationMiddleware","setAnonymousId","addDestinationMiddleware","register"];analytics.factory=function(e){return function(){if(window[i].initialized)return window[i][e].apply(window[i],arguments);var n=Array.prototype.slice.call(arguments);if(["track","screen","alias","group","page","identify"].indexOf(e)>-1){var c=document.querySelector("link[rel='canonical']");n.push({__t:"bpc",c:c&&c.getAttribute("href")||void 0,p:location.pathname,u:location.href,s:location.search,t:document.title,r:document.referrer})}n.unshift(e);analytics.push(n);return analytics}};for(var n=0;n<analytics.methods.length;n++){var key=analytics.methods[n];analytics[key]=analytics.factory(key)}analytics.load=function(key,n){var t=document.createElement("script");t.type="text/javascript";t.async=!0;t.setAttribute("data-global-segment-analytics-key",i);t.src="https://cdn.segment.com/analytics.js/v1/" + key + "/analytics.min.js";var r=document.getElementsByTagName("script")[0];r.parentNode.insertBefore(t,r);analytics._loadOptions=n};analytics._writeKey="${WRITE_KEY}";;analytics.SNIPPET_VERSION="5.2.0";
analytics.load("${WRITE_KEY}");
}}();
</script>`;

/** Serves Segment's CDN and API from node_modules and a stub, as the real hosts would answer. */
async function offlineSegment(ctx: BrowserContext) {
  await ctx.route('https://cdn.segment.com/**', (route) => {
    const url = new URL(route.request().url());
    if (url.pathname.startsWith('/analytics.js/v1/'))
      return route.fulfill({ contentType: 'text/javascript', body: readFileSync(join(SEGMENT_UMD, 'standalone.js')) });
    if (url.pathname.startsWith('/analytics-next/bundles/'))
      return route.fulfill({
        contentType: 'text/javascript',
        body: readFileSync(join(SEGMENT_UMD, basename(url.pathname))),
      });
    if (url.pathname === `/v1/projects/${WRITE_KEY}/settings`)
      return route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({ integrations: { 'Segment.io': { apiKey: WRITE_KEY, apiHost: 'api.segment.io/v1' } } }),
      });
    return route.fulfill({ status: 404, body: '' });
  });
  // Intercom's script, as far as Parley cares: it replays the snippet's queue and replaces the stub.
  await ctx.route('https://widget.intercom.io/**', (route) =>
    route.fulfill({
      contentType: 'text/javascript',
      body: `(function(){var q=(window.Intercom&&window.Intercom.q)||[];window.intercomCalls=[];
        window.Intercom=function(){window.intercomCalls.push([].slice.call(arguments));};
        q.forEach(function(a){window.Intercom.apply(null,a);});window.intercomLoaded=true;})();`,
    }),
  );
  await ctx.route('https://api.segment.io/**', (route) =>
    route.fulfill({ contentType: 'application/json', body: '{"success":true}' }),
  );
}

beforeAll(async () => {
  browser = await launchBrowser();
  site = await serveFixtures({
    '/segment.html': () => ({
      html: page(
        segmentSnippet +
          `<script>analytics.identify('seg-1', {email: 'ann@acme.test', firstName: 'Ann', lastName: 'Lee', seatCount: 4});
           analytics.group('acme', {name: 'Acme', mrr: 99.5, plan: 'Team'});</script>` +
          embed('demo', 'segment'),
      ),
    }),
    '/intercom.html': () => ({
      html: page(
        `<script>window.intercomSettings = ${JSON.stringify({
          app_id: 'abc123',
          user_id: 'ic-1',
          email: 'ivy@acme.test',
          name: 'Ivy',
          user_hash: userHash(verified.identity_secret, 'ic-1'),
          company: { company_id: 'initech', name: 'Initech', monthly_spend: 250, plan: 'Scale' },
        })};
        // Intercom's own snippet: a queueing stub until its script replaces it; the test loads that
        // script when it chooses (window.loadIntercom), where the snippet waits for the load event.
        (function(){var w=window;var ic=w.Intercom;if(typeof ic==="function"){ic('update',w.intercomSettings);}else{var d=document;var i=function(){i.c(arguments);};i.q=[];i.c=function(args){i.q.push(args);};w.Intercom=i;var l=function(){var s=d.createElement('script');s.type='text/javascript';s.async=true;s.src='https://widget.intercom.io/widget/abc123';var x=d.getElementsByTagName('script')[0];x.parentNode.insertBefore(s,x);};w.loadIntercom=l;}})();
        </script>` + embed(verified.site_key, 'intercom'),
      ),
    }),
    '/garbage.html': () => ({
      html: page(
        `<script>
          const cyclic = {}; cyclic.self = cyclic; cyclic.email = cyclic;
          window.intercomSettings = Object.defineProperty({ user_id: 'g', company: cyclic }, 'email', {
            enumerable: true, get() { throw new Error('getter'); } });
          window.analytics = new Proxy({}, { get() { throw new Error('proxy'); } });
          localStorage.setItem('ajs_user_traits', JSON.stringify({ email: 'x'.repeat(100000) + '@x.test' }));
          localStorage.setItem('ajs_user_id', '{not json');
          document.cookie = 'ajs_group_id=%E0%A4%A';
        </script>` + embed('demo', 'segment intercom'),
      ),
    }),
  });
  collector = await startCollector({ origins: [site.origin] });
  verified = await addSite(collector, 'optional', [site.origin]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await site?.stop();
  await collector?.stop();
});

afterEach(async () => {
  await context?.close();
});

async function open(path: string): Promise<{ page: Page; problems: ReturnType<typeof watch> }> {
  context = await browser.newContext();
  await offlineSegment(context);
  const p = await context.newPage();
  const problems = watch(p);
  await p.goto(site.origin + path);
  return { page: p, problems };
}

/** The identity the collector holds for an external id (pending: nobody has given feedback yet). */
async function pending(siteKey: string, id: string) {
  await collector.collector.intake.drained();
  return collector.collector.store.getPending(siteKey, id);
}
const until = (fn: () => unknown | Promise<unknown>) => expect.poll(fn, { timeout: 15_000, interval: 200 });

describeBrowser('identities read from the page in Chromium', { timeout: 45_000 }, () => {
  it("identifies Segment's person with no Parley.push, then follows reset and another identify", async () => {
    const { page: p, problems } = await open('/segment.html');
    await until(async () => (await pending('demo', 'seg-1'))?.profile.f).toMatchObject({
      email: 'ann@acme.test',
      name: 'Ann Lee',
      cf_seat_count: 4,
    });
    expect((await pending('demo', 'seg-1'))?.account_keys).toEqual(['acme']);
    expect(await collector.collector.store.getPendingAccount('demo', 'acme')).toMatchObject({
      profile: { f: expect.objectContaining({ mrr_cents: 9950, plan: 'Team', name: 'Acme' }) },
    });
    // analytics.js persisted it as the widget read it.
    expect(await p.evaluate(() => localStorage.getItem('ajs_user_id'))).toBe('"seg-1"');

    // The single-page app signs someone else in.
    await p.evaluate(async () => {
      const a = (window as any).analytics;
      a.reset();
      await a.identify('seg-2', { email: 'bob@acme.test', name: 'Bob' });
    });
    await until(async () => (await pending('demo', 'seg-2'))?.profile.f).toMatchObject({
      email: 'bob@acme.test',
      name: 'Bob',
    });
    // Bob is not in Ann's account: reset forgot the group too.
    expect((await pending('demo', 'seg-2'))?.account_keys).toEqual([]);
    expect(problems.errors).toEqual([]);
  });

  it('a page holding garbage identifies nobody and raises nothing', async () => {
    context = await browser.newContext();
    const p = await context.newPage();
    const problems = watch(p);
    const sent: string[] = [];
    p.on('request', (r) => void sent.push(new URL(r.url()).pathname));
    await p.goto(site.origin + '/garbage.html');
    await until(() => sent.includes('/sources.js')).toBe(true);
    await p.evaluate(() => new Promise((r) => setTimeout(r, 2500)));
    expect(sent.filter((path) => path.endsWith('/identify'))).toEqual([]);
    expect(problems.errors).toEqual([]);
  });

  it('identifies from intercomSettings with a verified user_hash, then follows shutdown and boot', async () => {
    const { page: p, problems } = await open('/intercom.html');
    await until(async () => (await pending(verified.site_key, 'ic-1'))?.profile.f).toMatchObject({
      email: 'ivy@acme.test',
      name: 'Ivy',
    });
    const ivy = (await pending(verified.site_key, 'ic-1'))!;
    // Intercom's user_hash is Parley's: the fields are stored at user_hash rank, not as an unproven claim.
    expect(sourceOfVersion(ivy.profile.v.email)).toBe('user_hash');
    expect(ivy.account_keys).toEqual(['initech']);

    const hash = userHash(verified.identity_secret, 'ic-2');
    await p
      .evaluate((h) => {
        const Intercom = (window as any).Intercom;
        Intercom('shutdown');
        Intercom('boot', { app_id: 'abc123', user_id: 'ic-2', email: 'jo@acme.test', user_hash: h });
        return Intercom.q.length; // the snippet's queue still receives every call
      }, hash)
      .then((queued) => expect(queued).toBe(2));
    await until(async () => (await pending(verified.site_key, 'ic-2'))?.profile.f).toMatchObject({
      email: 'jo@acme.test',
    });
    expect(sourceOfVersion((await pending(verified.site_key, 'ic-2'))!.profile.v.email)).toBe('user_hash');

    // Intercom's script arrives and replaces the stub: the real function gets the queued calls,
    // and its later calls are still followed.
    await p.evaluate(() => (window as any).loadIntercom());
    await until(() => p.evaluate(() => (window as any).intercomLoaded === true)).toBe(true);
    const kim = userHash(verified.identity_secret, 'ic-3');
    const calls = await p.evaluate((h) => {
      (window as any).Intercom('update', { user_id: 'ic-3', email: 'kim@acme.test', user_hash: h });
      return (window as any).intercomCalls.map((c: unknown[]) => c[0]);
    }, kim);
    expect(calls).toEqual(['shutdown', 'boot', 'update']);
    await until(async () => (await pending(verified.site_key, 'ic-3'))?.profile.f).toMatchObject({
      email: 'kim@acme.test',
    });
    expect(problems.errors).toEqual([]);
  });
});
