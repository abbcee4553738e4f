/**
 * Segments in the console, in real Chromium against a real collector (issue 17): feedback is
 * filtered by an account custom field chosen from its definition, the filters are saved as a
 * segment, the shareable URL reloads to the same rows in a fresh browser, Export CSV saves the
 * same list (read back and parsed), and the Ideas tab shows the MRR bars and the segment's NPS.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { parseCsv } from '../../shared/csv.ts';
import { describeBrowser } from '../helpers/browser.ts';
import { e2eSuite, openConsole, until } from './e2e-pages.ts';

const s = e2eSuite();

const person = (id: string, account: Record<string, unknown>) => ({ id, email: `${id}@seg.test`, name: id, account });
const EU1 = { id: 'eu1', name: 'Euro One', plan: 'Enterprise', mrr_cents: 500000, cf_region: 'EU' };
const EU2 = { id: 'eu2', name: 'Euro Two', plan: 'Pro', mrr_cents: 100000, cf_region: 'EU' };
const US1 = { id: 'us1', name: 'Yankee One', plan: 'Enterprise', mrr_cents: 900000, cf_region: 'US' };

/** Three EU feedback (two accounts) and two US; an idea from each region, an NPS answer from each. */
async function seed() {
  const defs = await s.c.send('PUT', '/custom_fields', {
    custom_fields: [{ key: 'region', object: 'account', type: 'select', options: ['EU', 'US'] }],
  });
  expect(defs.status).toBe(200);
  const fb = await s.c.send('POST', '/feedback', {
    feedback: [
      { kind: 'idea', title: 'Dark mode', identity: person('ana', EU1) },
      { kind: 'idea', title: 'SAML single sign-on', identity: person('carl', US1) },
      { kind: 'comment', title: 'Faster exports please', body: 'The CSV takes minutes.', identity: person('bea', EU2) },
      { kind: 'nps', score: 10, identity: person('ana', EU1) },
      { kind: 'nps', score: 2, identity: person('carl', US1) },
    ],
  });
  expect(fb.status, JSON.stringify(fb.json)).toBe(201);
}

/** The visible rows of the open list, as text, header excluded. */
const rowTexts = async (page: Page) =>
  (await page.getByRole('tabpanel').locator('tbody tr').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());

describeBrowser('console: segments', { timeout: 90_000 }, () => {
  it('filters feedback by an account custom field, saves the segment, reloads its URL, exports the CSV', async () => {
    await seed();
    const { page, errors } = await openConsole(s, '#feedback');
    await until(() => page.getByRole('tabpanel').locator('tbody tr').count()).toBe(5);

    // The account custom field is offered from its definition, its options as a menu.
    await page.getByLabel('Filter field').selectOption({ label: 'Account region' });
    expect(await page.getByLabel('Filter value').locator('option').allTextContents()).toEqual(['EU', 'US']);
    await page.getByLabel('Filter value').selectOption('EU');
    await page.getByRole('button', { name: 'Add filter' }).click();
    await until(() => page.getByRole('tabpanel').locator('tbody tr').count()).toBe(3);
    expect(await page.getByLabel('Active filters').textContent()).toContain('Account region is EU');
    expect(new URL(page.url()).hash).toBe('#feedback?account.cf_region=EU');
    const filtered = await rowTexts(page);
    expect(filtered.some((t) => t.includes('Yankee One'))).toBe(false);
    expect(filtered.filter((t) => t.includes('Euro'))).toHaveLength(3);
    // What stands behind the segment: two accounts, $6,000 of MRR.
    expect(await page.locator('.segment-totals').textContent()).toMatch(/3 feedback from 2 accounts,\s*\$6,000/);

    // Save it: the collector has it, and the URL now names it.
    await page.getByText('Segments', { exact: true }).click();
    await page.getByLabel('Segment name').fill('eu-customers');
    await page.getByRole('button', { name: 'Save current filters' }).click();
    await until(() => page.getByRole('status').filter({ hasText: 'Saved eu-customers' }).count()).toBe(1);
    expect((await s.c.admin('/segments/eu-customers')).segment).toEqual({
      name: 'eu-customers',
      filters: { 'account.cf_region': ['EU'] },
    });
    expect(new URL(page.url()).hash).toBe('#feedback?segment=eu-customers');
    expect(await page.getByRole('list', { name: 'Saved segments' }).textContent()).toContain('eu-customers');
    await until(() => rowTexts(page)).toEqual(filtered);

    // The shareable URL, opened in a fresh browser profile, shows the same rows.
    const shared = await openConsole(s, new URL(page.url()).hash);
    await until(() => rowTexts(shared.page)).toEqual(filtered);
    expect(await shared.page.getByLabel('Active filters').textContent()).toContain('Segment eu-customers');

    // Export CSV: the same list, every row, read back from the saved file.
    const [download] = await Promise.all([
      shared.page.waitForEvent('download'),
      shared.page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('parley-feedback.csv');
    const [header, ...rows] = parseCsv(readFileSync(await download.path(), 'utf8')).filter((r) => r.length > 1);
    const col = (name: string) => header.indexOf(name);
    const listed = (await s.c.admin('/feedback?segment=eu-customers&per_page=100')).feedback;
    expect(rows.map((r) => r[col('id')])).toEqual(listed.map((f: { id: string }) => f.id));
    expect(rows).toHaveLength(filtered.length);
    expect(new Set(rows.map((r) => r[col('account_name')]))).toEqual(new Set(['Euro One', 'Euro Two']));
    expect(
      rows
        .map((r) => r[col('title')])
        .filter(Boolean)
        .sort(),
    ).toEqual(['Dark mode', 'Faster exports please']);

    expect(errors).toEqual([]);
    expect(shared.errors).toEqual([]);
  });

  it('ranks ideas within the segment with MRR bars and shows its NPS; deletes the segment', async () => {
    await seed();
    expect(
      (await s.c.send('PUT', '/segments/enterprise', { filters: { 'account.plan': ['Enterprise'] } })).status,
    ).toBe(201);
    const { page, errors } = await openConsole(s, '#ideas?segment=enterprise');
    const panel = page.getByRole('tabpanel');
    await until(() => panel.locator('tbody tr').count()).toBe(2);
    await panel.getByRole('button', { name: 'MRR behind it' }).click();
    await until(() => rowTexts(page)).toEqual([
      expect.stringMatching(/^1SAML single sign-on.*\$9,000/),
      expect.stringMatching(/^2Dark mode.*\$5,000/),
    ]);
    expect(await panel.locator('svg.mrr-bar').count()).toBe(2);
    // One promoter, one detractor among Enterprise answers: NPS 0, drawn as one week.
    const nps = page.getByLabel('NPS of this segment');
    await until(() => nps.textContent()).toContain('NPS 0');
    expect(await nps.textContent()).toContain('1 promoters');
    expect(await nps.getByRole('img').getAttribute('aria-label')).toBe('Weekly NPS over 1 weeks');

    // Narrow further in the bar: the NPS follows.
    await page.getByLabel('Filter field').selectOption({ label: 'Account region' });
    await page.getByLabel('Filter value').selectOption('EU');
    await page.getByRole('button', { name: 'Add filter' }).click();
    await until(() => nps.textContent()).toContain('NPS 100');
    await until(() => panel.locator('tbody tr').count()).toBe(1);

    await page.getByText(/^Segments/).click();
    await page.getByRole('button', { name: 'Delete segment enterprise' }).click();
    await until(() => page.getByRole('status').filter({ hasText: 'Deleted enterprise' }).count()).toBe(1);
    expect((await s.c.send('GET', '/segments/enterprise')).status).toBe(404);
    // Deleting the segment in use keeps its filters, now spelled out.
    expect(new URL(page.url()).hash).toBe('#ideas?account.cf_region=EU&account.plan=Enterprise');
    await until(() => panel.locator('tbody tr').count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
