/**
 * The demo host page in real Chromium against a real collector: it embeds the widget the way a
 * customer does, identifies the signed-in user, and switching user changes who feedback is
 * attributed to — never the previous person.
 */
import type { Request } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeBrowser } from '../helpers/browser.ts';
import { e2eSuite, leaveIdea, openPage, signInAs, until } from './e2e-pages.ts';

const s = e2eSuite();

/** Feedback as the admin API lists it, once the intake has caught up. */
async function feedback(): Promise<any[]> {
  await s.c.collector.intake.drained();
  return (await s.c.admin('/feedback')).feedback;
}

const byTitle = (list: any[], title: string) => list.find((f) => f.title === title);

// Generous: two cores run these beside the other browser suites.
describeBrowser('demo host page', { timeout: 45_000 }, () => {
  it('identifies the signed-in user with their account, app version and location', async () => {
    const identifies: Request[] = [];
    const context = await s.browser.newContext();
    context.on('request', (r) => {
      if (r.url().endsWith('/api/widget/v1/demo/identify')) identifies.push(r);
    });
    const page = await context.newPage();
    const opened = { page, errors: [] as string[] };
    page.on('pageerror', (e) => opened.errors.push(String(e)));
    s.pages.push(opened);
    await page.goto(`${s.c.url}/demo/`);

    await until(() => identifies.length).toBe(1);
    const response = await identifies[0].response();
    expect(response?.status()).toBe(202);
    expect(identifies[0].postDataJSON().identities[0]).toMatchObject({
      id: 'u-101',
      email: 'ann@acme-corp.test',
      name: 'Ann Lee',
      type: 'Owner',
      app_version: '4.2.0',
      location: { country: 'DE', city: 'Berlin' },
      account: { id: 'acme-corp', name: 'Acme Corp', plan: 'Enterprise', monthly_rate: 1250 },
    });
    // Identified but silent so far: a pending identity, not yet a listed user.
    await s.c.collector.intake.drained();
    await until(async () => (await s.c.admin('/stats')).pending_identities).toBe(1);
    expect((await s.c.admin('/users')).users).toEqual([]);
    // The page shows, as text, what it tells Parley.
    expect(await page.locator('#identity').textContent()).toContain('"email": "ann@acme-corp.test"');
    expect(opened.errors).toEqual([]);
  });

  it('attributes feedback to whoever is signed in after each switch, never to the previous user', async () => {
    const { page, errors } = await openPage(s.browser, `${s.c.url}/demo/`, s.pages);
    await leaveIdea(page, 'Idea from Ann');

    await signInAs(page, 'u-201'); // Bruno, Globex
    await leaveIdea(page, 'Idea from Bruno');

    // Switching while the panel is open closes it: a form opened for Bruno is not sent as Chloé's.
    await page.getByRole('button', { name: 'Feedback', exact: true }).click();
    await page.getByRole('dialog').getByLabel('Title').fill('Typed by Bruno, abandoned');
    await signInAs(page, 'u-301'); // Chloé, Initech
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await leaveIdea(page, 'Idea from Chloé');

    const list = await feedback();
    expect(list).toHaveLength(3);
    expect(byTitle(list, 'Idea from Ann')).toMatchObject({
      user: { email: 'ann@acme-corp.test' },
      external_account: { external_id: 'acme-corp' },
      mrr_cents_at: 125000,
    });
    expect(byTitle(list, 'Idea from Bruno')).toMatchObject({
      user: { email: 'bruno@globex.test' },
      external_account: { external_id: 'globex' },
      mrr_cents_at: 9950,
    });
    expect(byTitle(list, 'Idea from Chloé')).toMatchObject({
      user: { email: 'chloe@initech.test' },
      external_account: { external_id: 'initech' },
      mrr_cents_at: 2900,
    });
    expect(errors).toEqual([]);
  });

  it('keeps the switched user across a reload', async () => {
    const { page, errors } = await openPage(s.browser, `${s.c.url}/demo/`, s.pages);
    await signInAs(page, 'u-102'); // Dev, Acme Corp
    await page.reload();
    await expect.poll(() => page.getByLabel('Signed in as').inputValue()).toBe('u-102');
    await leaveIdea(page, 'Idea from Dev');
    expect(byTitle(await feedback(), 'Idea from Dev')).toMatchObject({ user: { email: 'dev@acme-corp.test' } });
    expect(errors).toEqual([]);
  });

  it('asks a signed-out visitor for their email and does not reuse the last user', async () => {
    const { page, errors } = await openPage(s.browser, `${s.c.url}/demo/`, s.pages);
    await leaveIdea(page, 'Before signing out');
    await signInAs(page, 'none');
    await leaveIdea(page, 'From a visitor', { email: 'visitor@example.test' });

    const visitor = byTitle(await feedback(), 'From a visitor');
    expect(visitor).toMatchObject({
      user: { email: 'visitor@example.test' },
      external_user: null,
      external_account: null,
      mrr_cents_at: null,
    });
    expect(errors).toEqual([]);
  });

  it("opens the widget from the page's own buttons through the command queue", async () => {
    const { page, errors } = await openPage(s.browser, `${s.c.url}/demo/`, s.pages);
    await page.getByRole('button', { name: 'Suggest a feature' }).click();
    await expect.poll(() => page.getByRole('dialog').getByLabel('Title').count()).toBe(1);
    await page.getByRole('button', { name: 'Rate us' }).first().click();
    await page.getByRole('dialog').getByRole('group').getByRole('radio', { name: '9', exact: true }).waitFor();
    expect(errors).toEqual([]);
  });
});
