/**
 * The widget in real Chromium against the real collector: host pages served from their own
 * loopback origin, widget.js and the API reached through a recording fault proxy in front of
 * the collector. These cover what only a browser shows — the wire, reloads, the shadow-DOM UI
 * under hostile CSS, and a strict CSP.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeBrowser, launchBrowser, watch } from '../helpers/browser.ts';
import { startCollector, type TestCollector } from '../helpers/collector.ts';
import { faultProxy, serveFixtures } from '../helpers/browser-fixtures.ts';

let browser: Browser;
let collector: TestCollector;
let proxy: Awaited<ReturnType<typeof faultProxy>>;
let site: Awaited<ReturnType<typeof serveFixtures>>;
let context: BrowserContext;

const embed = (attrs = 'data-site="demo"') => `<script async src="${proxy.origin}/widget.js" ${attrs}></script>`;
const queue = (identity: object) =>
  `<script>window.Parley = window.Parley || []; Parley.push(['identify', ${JSON.stringify(identity)}]);</script>`;
/** Calls the widget ignores: an identity without an email and a command it does not know. */
const mistakes = `<script>window.Parley = [['identify', {id: 'x'}], ['frobnicate']];</script>`;
const debugEmbed = () => `<script async src="${proxy.origin}/widget.debug.js" data-site="demo"></script>`;
const page = (body: string, head = '') =>
  `<!doctype html><html><head><meta charset="utf-8">${head}</head><body><h1>Host app</h1>${body}</body></html>`;

const ann = {
  id: 'ann-1',
  email: 'ann@acme.test',
  name: 'Ann',
  account: { id: 'acme', name: 'Acme', monthly_rate: 99.5 },
};

beforeAll(async () => {
  browser = await launchBrowser();
  site = await serveFixtures({
    '/queue.html': () => ({ html: page(queue(ann) + embed()) }),
    '/retry.html': () => ({ html: page(queue({ id: 'rita', email: 'rita@acme.test' }) + embed()) }),
    '/reload.html': () => ({ html: page(queue({ id: 'rob', email: 'rob@acme.test' }) + embed()) }),
    '/plain.html': () => ({ html: page(embed()) }),
    '/debug.html': () => ({ html: page(mistakes + debugEmbed()) }),
    '/silent.html': () => ({ html: page(mistakes + embed()) }),
    '/blank.html': () => ({ html: page('no widget here') }),
    '/leave.html': () => ({ html: page(embed() + '<a id="away" href="/blank.html">away</a>') }),
    '/panel.html': () => ({
      html: page(queue({ id: 'fay', email: 'fay@acme.test', account: { id: 'fayco', monthly_rate: 42 } }) + embed()),
    }),
    '/hostile.html': () => ({
      html: page(
        embed(),
        '<style>*{all:unset!important} div{display:none!important} html{font-size:10px} button{visibility:hidden!important}</style>',
      ),
    }),
    '/csp.html': () => ({
      headers: {
        'content-security-policy': `default-src 'none'; script-src ${proxy.origin}; connect-src ${proxy.origin}; style-src 'self'`,
      },
      html: page(
        `<script type="application/json" data-parley>${JSON.stringify({
          site: 'demo',
          identify: { id: 'cspuser', email: 'csp@acme.test' },
          settings: { text: 'Ideas?' },
        })}</script>${embed('')}`,
      ),
    }),
  });
  collector = await startCollector({ origins: [site.origin] });
  proxy = await faultProxy(collector.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.stop();
  await site?.stop();
  await collector?.stop();
});

afterEach(async () => {
  proxy.clearFaults();
  await context?.close();
});

/** A fresh browser profile (own localStorage) with error and CSP watchers on its pages. */
async function open(path: string): Promise<{ page: Page; problems: ReturnType<typeof watch> }> {
  context = await browser.newContext();
  const p = await context.newPage();
  const problems = watch(p);
  await p.goto(site.origin + path);
  return { page: p, problems };
}

const identifyRequests = (email: string) =>
  proxy.requests.filter((r) => r.path.endsWith('/identify') && r.body?.identities?.some((i: any) => i.email === email));
const outboxEmpty = (p: Page) => p.evaluate(() => !localStorage.getItem('parley:v1:demo:outbox'));
const until = (fn: () => unknown | Promise<unknown>) => expect.poll(fn, { timeout: 15_000, interval: 100 });

// Generous timeouts: the whole suite may share two cores with other servers and browsers.
describeBrowser('widget in Chromium', { timeout: 40_000 }, () => {
  it('delivers an identify pushed before load in one request', async () => {
    const { page: p, problems } = await open('/queue.html');
    await until(() => identifyRequests('ann@acme.test').length).toBe(1);
    await until(() => outboxEmpty(p)).toBe(true);
    // A single-page app identifying again on a route change costs nothing.
    await p.evaluate((a) => {
      for (let i = 0; i < 5; i++) (window as any).Parley.push(['identify', a]);
    }, ann);
    await p.evaluate(() => new Promise((r) => setTimeout(r, 1500)));
    const [req] = identifyRequests('ann@acme.test');
    expect(identifyRequests('ann@acme.test')).toHaveLength(1);
    expect(req.status).toBe(202);
    expect(req.body.identities[0]).toMatchObject({
      id: 'ann-1',
      account: { id: 'acme' },
      locale: expect.any(String),
      timezone: expect.any(String),
    });
    expect(problems.errors).toEqual([]);
  });

  it('delivers once with the same message_id after two 503s', async () => {
    proxy.fail(/\/identify$/, 503, 1, '0');
    proxy.fail(/\/identify$/, 503, 1);
    const { page: p, problems } = await open('/retry.html');
    await until(() => identifyRequests('rita@acme.test').map((r) => r.status)).toEqual([503, 503, 202]);
    await until(() => outboxEmpty(p)).toBe(true);
    const ids = identifyRequests('rita@acme.test').map((r) => r.body.identities[0].message_id);
    expect(new Set(ids).size).toBe(1);
    expect(problems.errors).toEqual([]);
  });

  it('delivers an identify made while requests fail after a reload', async () => {
    proxy.fail(/\/identify$/, 503, 1000, '120');
    const { page: p, problems } = await open('/reload.html');
    await until(() => identifyRequests('rob@acme.test').length).toBe(1);
    expect(await outboxEmpty(p)).toBe(false);
    proxy.clearFaults();
    // The next page load has no identify of its own: only the outbox can deliver Rob.
    await p.goto(site.origin + '/plain.html');
    await until(() => identifyRequests('rob@acme.test').at(-1)?.status).toBe(202);
    await until(() => outboxEmpty(p)).toBe(true);
    const ids = identifyRequests('rob@acme.test').map((r) => r.body.identities[0].message_id);
    expect(new Set(ids).size).toBe(1);
    expect(problems.errors).toEqual([]);
  });

  it('hands a pending identity to sendBeacon when the user leaves the page', async () => {
    const { page: p, problems } = await open('/leave.html');
    // Booted: the widget's own push (a rest-parameter function, so length 0) replaced Array's.
    await p.waitForFunction(() => Array.isArray((window as any).Parley) && (window as any).Parley.push.length === 0);
    // Identify, then leave at once for a page without the widget: the 1 s batch timer never
    // fires and no later page load re-sends the outbox, so only the beacon can deliver it.
    await p.evaluate(() => {
      (window as any).Parley.push(['identify', { id: 'leo', email: 'leo@acme.test' }]);
      (document.getElementById('away') as HTMLAnchorElement).click();
    });
    await until(() => identifyRequests('leo@acme.test')[0]?.status).toBe(202);
    expect(problems.errors).toEqual([]);
  });

  it('sends feedback typed into the panel to the collector with its identity', async () => {
    const { page: p, problems } = await open('/panel.html');
    await p.getByRole('button', { name: 'Feedback' }).click();
    const dialog = p.getByRole('dialog', { name: 'Feedback' });
    await dialog.getByLabel('Title').fill('Export to CSV');
    await dialog.getByLabel('Details').fill('For the finance team');
    expect(await dialog.getByLabel('Your email').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Send' }).click();
    await until(() => dialog.getByRole('status').textContent()).toContain('Thank you');
    const sent = proxy.requests.find((r) => r.path.endsWith('/feedback'))!;
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({
      kind: 'idea',
      title: 'Export to CSV',
      identity: { email: 'fay@acme.test' },
      page_url: `${site.origin}/panel.html`,
    });
    await until(async () => JSON.stringify(await collector.admin('/feedback'))).toContain('Export to CSV');
    expect(JSON.stringify(await collector.admin('/feedback'))).toContain('fay@acme.test');
    // Keyboard: Escape closes and focus returns to the launcher.
    await p.keyboard.press('Escape');
    await p.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await p.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.textContent)).toBe('Feedback');
    expect(problems.errors).toEqual([]);
  });

  it('keeps the launcher visible and usable on a page with hostile CSS', async () => {
    const { page: p, problems } = await open('/hostile.html');
    const launcher = p.getByRole('button', { name: 'Feedback' });
    await launcher.waitFor({ state: 'visible' });
    const box = (await launcher.boundingBox())!;
    expect(box.width).toBeGreaterThan(60);
    expect(box.height).toBeGreaterThanOrEqual(36);
    expect(await launcher.evaluate((el) => getComputedStyle(el).fontSize)).toBe('14px');
    await launcher.click();
    const dialog = p.getByRole('dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.getByLabel('Title').evaluate((el) => getComputedStyle(el).fontSize)).toBe('14px');
    await p.keyboard.type('Typed by keyboard');
    expect(await dialog.getByLabel('Title').inputValue()).toBe('Typed by keyboard');
    expect(problems.errors).toEqual([]);
  });

  it('explains ignored calls on the console with widget.debug.js, and says nothing with widget.js', async () => {
    const consoleOf = async (path: string) => {
      context = await browser.newContext();
      const p = await context.newPage();
      const said: string[] = [];
      p.on('console', (m) => m.text().includes('parley') && said.push(m.text()));
      await p.goto(site.origin + path);
      // The widget took the page's queue (its own push, a rest-parameter function, has length 0).
      await p.waitForFunction(() => (window as any).Parley.push.length === 0);
      await context.close();
      return said;
    };
    expect(await consoleOf('/debug.html')).toEqual([
      '[parley] identify needs an email',
      '[parley] unknown command "frobnicate" ignored',
    ]);
    expect(await consoleOf('/silent.html')).toEqual([]);
    const served = await fetch(`${collector.url}/widget.debug.js`);
    expect(served.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
  });

  it('works under a strict CSP through the JSON config block, with no violation', async () => {
    const { page: p, problems } = await open('/csp.html');
    await until(() => identifyRequests('csp@acme.test').map((r) => r.status)).toEqual([202]);
    const launcher = p.getByRole('button', { name: 'Ideas?' });
    await launcher.click();
    const dialog = p.getByRole('dialog');
    await dialog.waitFor({ state: 'visible' });
    // Styled: the adopted stylesheet applied, though style-src forbids inline styles.
    expect(await dialog.evaluate((el) => getComputedStyle(el).position)).toBe('fixed');
    expect(problems.violations).toEqual([]);
    expect(problems.errors).toEqual([]);
  });
});
