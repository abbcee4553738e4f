/**
 * The admin console in real Chromium against a real collector: the key form and its error
 * state, the designed empty and error states, and the round trip that is the product's point —
 * an idea left through the demo's widget shows up with its person, account and MRR.
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeBrowser } from '../helpers/browser.ts';
import { e2eSuite, enterKey, leaveIdea, openConsole, openPage, row, signInAs, until } from './e2e-pages.ts';

const s = e2eSuite();

/** Feedback sent as the widget sends it (no Origin: a server-side client, allowed by CORS rules). */
async function sendFeedback(body: Record<string, unknown>) {
  const res = await fetch(`${s.c.url}/api/widget/v1/demo/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ message_id: crypto.randomUUID(), kind: 'idea', ...body }),
  });
  expect(res.status).toBe(201);
}

const tab = (page: Page, name: string) => page.getByRole('tab', { name }).click();
const stat = (page: Page, label: string) =>
  page.locator('.stat').filter({ hasText: label }).locator('.stat-value').textContent();

// Generous: two cores run these beside the other browser suites.
describeBrowser('admin console', { timeout: 45_000 }, () => {
  it('refuses a wrong key with a clear message and keeps nothing', async () => {
    const { page, errors } = await openPage(s.browser, `${s.c.url}/admin/`, s.pages);
    await enterKey(page, 'not-the-admin-key');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('This admin key was not accepted');
    expect(await page.getByLabel('Admin key').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('tablist').count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(errors).toEqual([]);
  });

  it('shows designed empty states on a collector with no data', async () => {
    const { page, errors } = await openConsole(s);
    await expect.poll(() => page.getByRole('tabpanel').textContent()).toContain('No feedback yet');
    for (const [name, text] of [
      ['Ideas', 'No ideas yet'],
      ['Users', 'No users yet'],
      ['Accounts', 'No accounts yet'],
    ]) {
      await tab(page, name);
      await expect.poll(() => page.getByRole('tabpanel').textContent()).toContain(text);
    }
    expect(await stat(page, 'Users')).toBe('0');
    // Keyboard: arrow keys move between tabs.
    await page.getByRole('tab', { name: 'Accounts' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByRole('tab', { name: 'Feedback' }).getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Feedback');
    expect(errors).toEqual([]);
  });

  it('shows an idea left through the demo widget with its user, account and MRR', async () => {
    const demo = await openPage(s.browser, `${s.c.url}/demo/`, s.pages);
    await leaveIdea(demo.page, 'Export dashboards to PDF');
    // Bruno is identified but says nothing: counted as pending, not listed.
    await signInAs(demo.page, 'u-201');
    await s.c.collector.intake.drained();
    await until(async () => (await s.c.admin('/stats')).pending_identities).toBe(1);

    const { page, errors } = await openConsole(s);
    await expect
      .poll(() => row(page, 'Export dashboards to PDF').textContent())
      .toMatch(/Ann Lee.*Acme Corp.*Enterprise.*\$1,250\.00.*\/demo\//);
    expect(await stat(page, 'Pending identities')).toBe('1');

    await tab(page, 'Users');
    await expect
      .poll(() => row(page, 'Ann Lee').textContent())
      .toMatch(/ann@acme-corp\.test.*u-101.*Owner.*Acme Corp.*\$1,250\.00.*4\.2\.0.*Berlin, BE, DE/);
    expect(await row(page, 'Bruno').count()).toBe(0);

    await tab(page, 'Accounts');
    await expect
      .poll(() => row(page, 'Acme Corp').textContent())
      .toMatch(/acme-corp.*Enterprise.*\$1,250\.00.*\$45,000\.00/);

    await tab(page, 'Ideas');
    await expect.poll(() => row(page, 'Export dashboards to PDF').textContent()).toMatch(/\$1,250\.00/);
    expect(errors).toEqual([]);
    expect(demo.errors).toEqual([]);
  });

  it('ranks ideas by supporters or by the MRR behind them', async () => {
    const small = (n: number) => ({
      id: `s${n}`,
      email: `s${n}@small.test`,
      account: { id: `small${n}`, name: `Small ${n}`, monthly_rate: 10 },
    });
    await sendFeedback({ title: 'Popular with small accounts', identity: small(1) });
    const ideas = (await s.c.admin('/ideas')).ideas;
    await sendFeedback({ kind: 'support', idea_id: ideas[0].id, identity: small(2) });
    await sendFeedback({
      title: 'Wanted by one big account',
      identity: { id: 'big', email: 'cfo@big.test', account: { id: 'big', name: 'Big', monthly_rate: 5000 } },
    });

    const { page, errors } = await openConsole(s);
    await tab(page, 'Ideas');
    const titles = () => page.getByRole('tabpanel').locator('tbody tr .primary').allTextContents();
    await expect.poll(titles).toEqual(['Popular with small accounts', 'Wanted by one big account']);
    await page.getByRole('button', { name: 'MRR behind it' }).click();
    await expect.poll(titles).toEqual(['Wanted by one big account', 'Popular with small accounts']);
    expect(await row(page, 'Wanted by one big account').textContent()).toContain('$5,000.00');
    // The feedback list names the idea a supporter backed.
    await tab(page, 'Feedback');
    await expect
      .poll(() => row(page, 's2@small.test').textContent())
      .toContain('Supports “Popular with small accounts”');
    expect(errors).toEqual([]);
  });

  it('finds users by name or email and sorts accounts by MRR or name', async () => {
    const person = (id: string, name: string, account: string, rate: number) => ({
      id,
      email: `${id}@${account.toLowerCase()}.test`,
      name,
      account: { id: account.toLowerCase(), name: account, monthly_rate: rate },
    });
    await sendFeedback({ title: 'One', identity: person('zoe', 'Zoe Park', 'Alpha', 20) });
    await sendFeedback({ title: 'Two', identity: person('yan', 'Yan Wu', 'Beta', 900) });
    await sendFeedback({ title: 'Three', identity: person('xia', 'Xia Chen', 'Gamma', 300) });

    const { page, errors } = await openConsole(s);
    await tab(page, 'Users');
    const names = () => page.getByRole('tabpanel').locator('tbody tr td:first-child .primary').allTextContents();
    await expect.poll(async () => (await names()).sort()).toEqual(['Xia Chen', 'Yan Wu', 'Zoe Park']);
    await page.getByRole('searchbox', { name: 'Name or email' }).fill('beta.test');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(names).toEqual(['Yan Wu']);
    await page.getByRole('searchbox', { name: 'Name or email' }).fill('nobody');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('tabpanel').textContent()).toContain('No user matches');
    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(names).toHaveLength(3);

    await tab(page, 'Accounts');
    const accounts = () => page.getByRole('tabpanel').locator('tbody tr td:first-child .primary').allTextContents();
    await expect.poll(accounts).toEqual(['Beta', 'Gamma', 'Alpha']); // by MRR, highest first
    await page.getByRole('button', { name: 'Name', exact: true }).click();
    await expect.poll(accounts).toEqual(['Alpha', 'Beta', 'Gamma']);
    expect(errors).toEqual([]);
  });

  it('renders what users typed as text, never as markup', async () => {
    await sendFeedback({
      title: '<img src=x onerror="window.__owned=1">',
      body: '<script>window.__owned=2</script>',
      identity: {
        id: 'm',
        email: 'mallory@evil.test',
        name: '<b>Mallory</b>',
        account: { id: 'evil', name: '<i>Evil</i>', monthly_rate: 1 },
      },
    });
    const { page, errors } = await openConsole(s);
    await expect
      .poll(() => row(page, 'mallory@evil.test').textContent())
      .toContain('<img src=x onerror="window.__owned=1">');
    expect(await row(page, 'mallory@evil.test').textContent()).toContain('<b>Mallory</b>');
    expect(await page.getByRole('tabpanel').locator('img, b, i, script').count()).toBe(0);
    expect(await page.evaluate(() => (window as any).__owned)).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('pages through a long list', async () => {
    for (let n = 1; n <= 30; n++) await sendFeedback({ title: `Idea number ${n}`, email: `p${n}@paging.test` });
    const { page, errors } = await openConsole(s);
    const pager = page.getByRole('navigation', { name: 'feedback pages' });
    await expect.poll(() => pager.textContent()).toContain('Page 1 of 2');
    expect(await row(page, 'Idea number 30').count()).toBe(1); // newest first
    await pager.getByRole('button', { name: 'Next →' }).click();
    await expect.poll(() => pager.textContent()).toContain('Page 2 of 2');
    await expect.poll(() => page.getByRole('tabpanel').locator('tbody tr').count()).toBe(5);
    expect(await row(page, 'Idea number 1').count()).toBe(1);
    expect(errors).toEqual([]);
  });

  it('shows a failed list with a retry, and recovers', async () => {
    const { page, errors } = await openPage(s.browser, `${s.c.url}/admin/`, s.pages);
    await page.route('**/api/v2/admin/feedback?*', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({
          errors: { type: 'unavailable', message: 'the collector is catching up; retry shortly', details: [] },
        }),
      }),
    );
    await enterKey(page, s.c.adminKey);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('the collector is catching up');
    await page.unroute('**/api/v2/admin/feedback?*');
    await page.getByRole('button', { name: 'Try again' }).click();
    await expect.poll(() => page.getByRole('tabpanel').textContent()).toContain('No feedback yet');
    expect(errors).toEqual([]);
  });

  it('sends a stored key the collector no longer accepts back to the key form, saying why', async () => {
    const context = await s.browser.newContext();
    await context.addInitScript(() => sessionStorage.setItem('parley:admin-key', 'revoked-key'));
    const page = await context.newPage();
    const opened = { page, errors: [] as string[] };
    page.on('pageerror', (e) => opened.errors.push(String(e)));
    s.pages.push(opened);
    await page.goto(`${s.c.url}/admin/`);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('This admin key was not accepted');
    await page.getByLabel('Admin key').waitFor();
    expect(opened.errors).toEqual([]);
  });

  it('keeps the key for this tab across reloads and forgets it on request', async () => {
    const { page, errors } = await openConsole(s);
    await page.reload();
    await page.getByRole('tablist').waitFor();
    await page.getByRole('button', { name: 'Forget key' }).click();
    await page.getByLabel('Admin key').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(errors).toEqual([]);
  });
});
