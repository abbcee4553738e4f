/**
 * The console's person page, Record feedback and Import page in real Chromium against a real
 * collector (issue 15): a 2,000-row semicolon CSV without a header is mapped, validated (a dry
 * run that writes nothing) and imported, and the people appear; feedback recorded for a person
 * who is still pending makes them a user, with their account's MRR on the feedback.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBrowser } from '../helpers/browser.ts';
import { e2eSuite, openConsole, row, until } from './e2e-pages.ts';

const s = e2eSuite();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-console-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** 2,000 people on 50 accounts; rows 7 and 1500 carry an address that is not one. */
function semicolonCsv(): string {
  const lines: string[] = [];
  for (let n = 1; n <= 2000; n++) {
    const email = n === 7 || n === 1500 ? `person${n}-at-nowhere` : `person${n}@import.test`;
    const account = `acct-${n % 50}`;
    lines.push(
      [
        `ext-${n}`,
        email,
        `Person ${n}`,
        account,
        `Account ${n % 50}`,
        `${(n % 50) + 10}.50`,
        n % 2 ? 'smb' : 'ent',
      ].join(';'),
    );
  }
  return lines.join('\r\n') + '\r\n';
}

const select = (page: Page, column: number, field: string) =>
  page.getByLabel(`Field for column ${column}`, { exact: true }).selectOption(field);

describeBrowser('console: person page, record feedback, import', { timeout: 90_000 }, () => {
  it('imports a 2,000-row semicolon CSV without a header: map, validate (nothing written), import', async () => {
    expect(
      (
        await s.c.send('PUT', '/custom_fields', {
          custom_fields: [{ key: 'customer_type', object: 'user', type: 'text' }],
        })
      ).status,
    ).toBe(200);
    const file = join(dir, 'crm-export.csv');
    writeFileSync(file, semicolonCsv());

    const { page, errors } = await openConsole(s);
    await page.getByRole('link', { name: 'Import' }).click();
    await page.getByLabel('File (.csv or .jsonl)').setInputFiles(file);
    await page.getByLabel('Delimiter').selectOption(';');
    await page.getByLabel('First row is a header').uncheck();
    // Seven columns, none matched without a header; the first values show what each holds.
    await until(() => page.getByRole('table', { name: 'Columns' }).getByRole('row').count()).toBe(8);
    expect(await page.getByRole('table', { name: 'Columns' }).textContent()).toContain('person1@import.test');
    expect(await page.getByRole('button', { name: 'Validate' }).isDisabled()).toBe(true);
    await select(page, 1, 'external_id');
    await select(page, 2, 'email');
    await select(page, 3, 'name');
    await select(page, 4, 'account.external_id');
    await select(page, 5, 'account.name');
    await select(page, 6, 'account.monthly_rate');
    // The defined custom field is offered by its name.
    await page
      .getByLabel('Field for column 7', { exact: true })
      .selectOption({ label: 'customer_type (custom) — cf_customer_type' });

    await page.getByRole('button', { name: 'Validate' }).click();
    const result = page.getByLabel('Validation result');
    await until(() => result.getByRole('status').textContent()).toContain('1,998 rows valid, 2 would fail');
    expect(await result.textContent()).toMatch(/External users: 1,998 to create/);
    expect(await result.textContent()).toMatch(/Accounts: \d+ to create/);
    const failing = result.getByRole('table', { name: 'Rows that fail' });
    expect(await failing.getByRole('row').filter({ hasText: /^7/ }).textContent()).toContain('email');
    expect(await failing.getByRole('row').filter({ hasText: /^1500/ }).textContent()).toContain('email');
    // A dry run writes nothing.
    expect((await s.c.admin('/stats')).users).toBe(0);

    await page.getByLabel('Tag everyone imported (optional)').fill('crm-2026');
    await page.getByRole('button', { name: 'Import' }).click();
    const done = page.getByLabel('Import result');
    await until(() => done.getByRole('status').textContent()).toContain('Imported 1,998 rows; 2 failed');
    const download = done.getByRole('link', { name: 'Download the errors file' });
    expect(await download.getAttribute('download')).toBe('crm-export.errors.csv');

    const stats = await s.c.admin('/stats');
    expect(stats.users).toBe(1998);
    expect(stats.external_accounts).toBe(50);
    const tagged = await s.c.admin('/users?tag=crm-2026&per_page=1');
    expect(tagged.pagination.total_records).toBe(1998);
    const one = await s.c.admin('/users?q=person42@import.test&includes=external_users');
    expect(one.external_users[0].custom_fields).toEqual({ cf_customer_type: 'ent' });

    // An account's people, from the Accounts list.
    await page.getByRole('tab', { name: 'Accounts' }).click();
    await page.getByRole('button', { name: 'People of Account 49' }).click();
    await until(() => page.getByRole('tab', { name: 'Users' }).getAttribute('aria-selected')).toBe('true');
    await until(() => page.getByRole('navigation', { name: 'users pages' }).textContent()).toContain('40 users');
    expect(await row(page, 'Person 49').first().textContent()).toMatch(/ext-49.*Account 49/);
    await page.getByRole('button', { name: 'Show every account' }).click();
    await until(() => page.getByRole('navigation', { name: 'users pages' }).textContent()).toContain('1,998 users');

    // The people appear in Users, and each opens their own page.
    await page.getByPlaceholder('Name or email').fill('person1999@');
    await page.getByPlaceholder('Name or email').press('Enter');
    await until(() => row(page, 'Person 1999').textContent()).toMatch(/ext-1999.*Account 49.*\$59\.50/);
    await row(page, 'Person 1999').getByRole('link').click();
    await until(() => page.getByRole('heading', { level: 2 }).textContent()).toBe('Person 1999');
    const provenance = page.getByRole('table', { name: 'External user ext-1999' });
    expect(await provenance.getByRole('row').filter({ hasText: 'email' }).first().textContent()).toMatch(
      /person1999@import\.test.*Admin API.*none \(import\)/,
    );
    // Back returns to the list it was opened from.
    await page.goBack();
    await until(() => page.getByRole('tab', { name: 'Users' }).getAttribute('aria-selected')).toBe('true');
    expect(errors).toEqual([]);
  });

  it('records feedback for a pending person from their page; they appear in Users with the MRR on it', async () => {
    const accepted = await s.c.send('POST', '/bulk_identify', {
      identities: [
        {
          id: 'crm-77',
          email: 'dana@newco.test',
          name: 'Dana New',
          account: { id: 'newco', name: 'NewCo', plan: 'Team', monthly_rate: 99.5 },
        },
      ],
    });
    expect(accepted.status).toBe(202);
    await s.c.collector.intake.drained();
    await until(async () => (await s.c.admin('/stats')).pending_identities).toBe(1);

    const { page, errors } = await openConsole(s);
    await page.getByRole('tab', { name: 'Users' }).click();
    await until(() => page.getByRole('tabpanel').textContent()).toContain('No users yet');
    await page.getByLabel('Open a person').fill('dana@newco.test');
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await until(() => page.getByRole('heading', { level: 2 }).textContent()).toBe('dana@newco.test');
    expect(await page.getByLabel('Person: dana@newco.test').textContent()).toContain('pending');

    // The collector's field error is shown beside the field, and nothing is written.
    const form = page.getByRole('form', { name: 'Record feedback' });
    await form.getByLabel('Kind').selectOption('idea');
    await form.getByRole('button', { name: 'Record feedback' }).click();
    await until(() => form.getByLabel('Title').getAttribute('aria-invalid')).toBe('true');
    expect(await form.locator('#rf-title-error').textContent()).toBe('an idea needs a title');
    expect((await s.c.admin('/stats')).users).toBe(0);

    await form.getByLabel('Kind').selectOption('nps');
    await form.getByLabel('Score').selectOption('9');
    await form.getByLabel('Text').fill('Said on the renewal call: the exports saved them a day a month.');
    await form.getByLabel('Source').fill('sales-call');
    await form.getByRole('button', { name: 'Record feedback' }).click();

    // Recording promoted Dana: the page is now her user's, with the feedback and its MRR.
    await until(() => page.getByRole('heading', { level: 2 }).textContent()).toBe('Dana New');
    expect(page.url()).toMatch(/#user\/u_[0-9a-f]+$/);
    await until(() => page.locator('.person-feedback').textContent()).toMatch(
      /NPS.*sales-call.*Score 9 \/ 10.*NewCo.*\$99\.50/,
    );
    const accounts = page.getByRole('table', { name: 'Account NewCo' });
    expect(await accounts.getByRole('row').filter({ hasText: 'mrr_cents' }).textContent()).toMatch(
      /\$99\.50.*Admin API/,
    );

    await page.getByRole('tab', { name: 'Users' }).click();
    await until(() => row(page, 'Dana New').textContent()).toMatch(/crm-77.*NewCo.*Team.*\$99\.50/);
    await page.getByRole('tab', { name: 'Feedback' }).click();
    await until(() => row(page, 'Dana New').textContent()).toMatch(/NPS.*sales-call.*NewCo.*\$99\.50/);
    const stats = await s.c.admin('/stats');
    expect([stats.users, stats.pending_identities, stats.feedback]).toEqual([1, 0, 1]);
    expect(errors).toEqual([]);
  });
});
