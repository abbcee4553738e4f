/**
 * What the end-to-end tests do to the product, in a person's words: sign in on the demo as
 * someone, leave an idea through the widget, open the admin console with a key. Each browser
 * page is watched for uncaught errors, which every test asserts stay absent.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { launchBrowser, watch } from '../helpers/browser.ts';
import { startCollector, type TestCollector } from '../helpers/collector.ts';

/** Polls until the assertion holds: the widget batches and the collector applies asynchronously. */
export const until = (fn: () => unknown | Promise<unknown>) => expect.poll(fn, { timeout: 10_000, interval: 100 });

export interface Opened {
  page: Page;
  errors: string[];
}

/** A fresh profile (own storage), a fixed locale and zone so money and dates read predictably. */
export async function openPage(browser: Browser, url: string, pages: Opened[]): Promise<Opened> {
  const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  const opened = { page, errors: watch(page).errors };
  pages.push(opened);
  await page.goto(url);
  return opened;
}

/** The demo's user switcher; `none` signs out. */
export async function signInAs(page: Page, userId: string | 'none') {
  await page.getByLabel('Signed in as').selectOption(userId);
}

/** Opens the widget from its launcher and sends an idea; resolves once the panel thanks us. */
export async function leaveIdea(page: Page, title: string, opts: { email?: string } = {}) {
  await page.getByRole('button', { name: 'Feedback', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Title').fill(title);
  if (opts.email) await dialog.getByLabel('Your email').fill(opts.email);
  await dialog.getByRole('button', { name: 'Send' }).click();
  await until(() => dialog.getByRole('status').textContent()).toContain('Thank you');
  await dialog.getByRole('button', { name: 'Close', exact: true }).first().click();
  await dialog.waitFor({ state: 'detached' });
}

/** Types a key into the console's form and submits it. */
export async function enterKey(page: Page, key: string) {
  await page.getByLabel('Admin key').fill(key);
  await page.getByRole('button', { name: 'Open console' }).click();
}

/** The table row of the open tab that mentions `text`. */
export const row = (page: Page, text: string) => page.getByRole('tabpanel').getByRole('row').filter({ hasText: text });

/** What a file's tests share: its browser, this test's collector, the pages this test opened. */
export interface E2e {
  browser: Browser;
  c: TestCollector;
  pages: Opened[];
}

/**
 * The hooks every end-to-end file needs: one Chromium per file, a fresh collector per test, and
 * every page a test opened closed after it. Read the fields inside tests (they are set by hooks).
 */
export function e2eSuite(): E2e {
  const s = { pages: [] } as unknown as E2e;
  beforeAll(async () => {
    s.browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await s.browser?.close();
  });
  beforeEach(async () => {
    s.c = await startCollector();
  });
  afterEach(async () => {
    for (const { page } of s.pages) await page.context().close();
    s.pages = [];
    await s.c.stop();
  });
  return s;
}

/** The admin console (at `hash`, a list or a person) opened with the collector's admin key. */
export async function openConsole(s: E2e, hash = ''): Promise<Opened> {
  const opened = await openPage(s.browser, `${s.c.url}/admin/${hash}`, s.pages);
  await enterKey(opened.page, s.c.adminKey);
  await opened.page.getByRole('tablist').waitFor();
  return opened;
}
