/**
 * Regenerates the README's screenshots from the real product: starts a collector on a
 * temporary data directory, gives it a little history through the widget's public API, then
 * photographs the demo page with the panel open (docs/demo.png), the admin console
 * (docs/admin.png), one person's page (docs/person.png), the Import page after validating a
 * CRM export (docs/import.png) and the ideas ranked by MRR within a segment, with its NPS
 * (docs/segments.png), in headless Chromium.
 *
 *   npm run -s build && npx tsx demo/screenshots.ts [--tabs DIR]
 *
 * `--tabs DIR` also photographs every tab of the console and the key form into DIR, for
 * reviewing the console's look without committing more pictures.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { openCollector } from '../server/collector.ts';
import { ROOT } from '../server/paths.ts';

const ADMIN_KEY = 'screenshot-admin-key-0123456789';
const VIEWPORT = { width: 1280, height: 800 };
const tabsAt = process.argv.indexOf('--tabs');
const tabsDir = tabsAt > 0 ? process.argv[tabsAt + 1] : undefined;

const dataDir = mkdtempSync(join(tmpdir(), 'parley-shots-'));
const collector = await openCollector({ dataDir, demoAdminKey: ADMIN_KEY, checkpointMs: 1000 });
const server = collector.app.listen(0, '127.0.0.1');
await new Promise<void>((r) => server.once('listening', () => r()));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
await collector.ensureDemoSite([url, url.replace('127.0.0.1', 'localhost')]);

const browser = await chromium.launch({
  executablePath: process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-quic',
    '--disable-sync',
    '--hide-scrollbars',
  ],
});

/** Sends feedback as the widget would, for one of the demo's users. */
async function feedback(identity: unknown, body: Record<string, unknown>): Promise<{ id: string; idea_id: string }> {
  const res = await fetch(`${url}/api/widget/v1/demo/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ message_id: crypto.randomUUID(), identity, page_url: `${url}/demo/`, ...body }),
  });
  if (res.status !== 201) throw new Error(`seeding feedback failed: ${res.status} ${await res.text()}`);
  return (await res.json()).feedback;
}

/** An admin request with the screenshot key; a failure stops the run. */
async function adminSend(method: string, path: string, body: unknown) {
  const res = await fetch(`${url}/api/v2/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path} failed: ${res.status} ${await res.text()}`);
}

/** A short history: ideas, support from another account, a comment and NPS scores. */
async function seed(page: Page) {
  const users = await page.evaluate(() => (window as unknown as { AcmeUsers: { id: string }[] }).AcmeUsers);
  const [ann, dev, bruno, chloe] = users;
  const pdf = await feedback(ann, {
    kind: 'idea',
    title: 'Export dashboards to PDF',
    body: 'Our board wants the monthly numbers as a PDF.',
  });
  await feedback(bruno, { kind: 'support', idea_id: pdf.idea_id });
  await feedback(dev, { kind: 'support', idea_id: pdf.idea_id });
  // Two small accounts want one thing, one big account another: the two rankings differ.
  const compare = await feedback(bruno, {
    kind: 'idea',
    title: 'Compare this week with last week',
    body: 'A dotted line on every chart would do.',
    page_url: `${url}/demo/#reports`,
  });
  await feedback(chloe, { kind: 'support', idea_id: compare.idea_id });
  await feedback(ann, { kind: 'idea', title: 'Slack alert when sign-ups drop', body: 'We only notice on Monday.' });
  await feedback(chloe, { kind: 'comment', body: 'The weekly report email lands in our spam folder.' });
  await feedback(bruno, { kind: 'nps', score: 9, body: 'Fast, and the team actually uses it.' });
  await feedback(dev, { kind: 'nps', score: 7, body: 'Great charts; the exports are what we miss.' });
}

try {
  const context = await browser.newContext({
    viewport: VIEWPORT,
    deviceScaleFactor: 1,
    locale: 'en-US',
    timezoneId: 'Europe/Berlin',
  });
  const demo = await context.newPage();
  demo.on('pageerror', (e) => {
    throw e;
  });
  await demo.goto(`${url}/demo/`);
  await seed(demo);

  // Dev is signed in; he starts typing an idea Ann already had, and Parley offers hers.
  await demo.getByLabel('Signed in as').selectOption('u-102');
  await demo.getByRole('button', { name: 'Feedback' }).click();
  const dialog = demo.getByRole('dialog');
  await dialog.getByLabel('Title').pressSequentially('Export to PDF', { delay: 20 });
  await dialog.getByRole('region', { name: 'Similar ideas' }).waitFor();
  await demo.screenshot({ path: join(ROOT, 'docs', 'demo.png') });

  const admin = await context.newPage();
  await admin.goto(`${url}/admin/`);
  await admin.getByLabel('Admin key').fill(ADMIN_KEY);
  await admin.getByRole('button', { name: 'Open console' }).click();
  // Feedback fills the frame and shows the point: who said what, their account, its MRR then.
  await admin.getByRole('cell', { name: 'Export dashboards to PDF' }).first().waitFor();
  await admin.screenshot({ path: join(ROOT, 'docs', 'admin.png') });

  // Ann's page: her records, her account, where each field came from, her feedback.
  await admin.getByRole('tab', { name: 'Users' }).click();
  await admin.getByRole('link', { name: 'Ann Lee' }).click();
  await admin.getByRole('heading', { name: 'Ann Lee', level: 2 }).waitFor();
  await admin.getByRole('table', { name: /^External user/ }).waitFor();
  await admin.screenshot({ path: join(ROOT, 'docs', 'person.png'), fullPage: true });

  // A CRM export with its own headers, a semicolon and one bad address, validated.
  await fetch(`${url}/api/v2/admin/custom_fields`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ custom_fields: [{ key: 'customer_type', object: 'user', type: 'text' }] }),
  });
  const crm = join(dataDir, 'crm-export.csv');
  writeFileSync(
    crm,
    [
      'Customer ID;E-mail;Full Name;Company;Company ID;MRR;Customer Type;Notes',
      'c-1;maria@globex.test;Maria Gomez;Globex;globex;480.00;enterprise;renewal in May',
      'c-2;li@initech.test;Li Wei;Initech;initech;99.50;smb;',
      'c-3;not-an-address;Sam Roe;Initech;initech;99.50;smb;typo in CRM',
      'u-101;ann@acme-corp.test;Ann Lee;Acme Corp;acme-corp;1250;enterprise;',
    ].join('\n') + '\n',
  );
  await admin.getByRole('link', { name: 'Import' }).click();
  await admin.getByLabel('File (.csv or .jsonl)').setInputFiles(crm);
  await admin.getByLabel('Delimiter').selectOption(';');
  await admin.getByRole('button', { name: 'Validate' }).click();
  await admin.getByLabel('Validation result').waitFor();
  await admin.screenshot({ path: join(ROOT, 'docs', 'import.png'), fullPage: true });

  // Segments: the EU accounts' ideas by the MRR behind them, and their NPS over six weeks
  // (answers back-dated through the admin API, after the pictures above so they stay as they were).
  await adminSend('PUT', '/custom_fields', {
    custom_fields: [{ key: 'region', object: 'account', type: 'select', options: ['EU', 'LATAM', 'US'] }],
  });
  const people = await demo.evaluate(() => (window as unknown as { AcmeUsers: unknown[] }).AcmeUsers);
  const week = 7 * 24 * 3600;
  const now = Math.floor(Date.now() / 1000);
  const scores = [6, 8, 7, 9, 10, 9, 10, 8, 9, 10, 10, 9];
  await adminSend('POST', '/feedback', {
    feedback: scores.map((score, n) => ({
      kind: 'nps',
      score,
      source: 'survey',
      identity: people[[0, 1, 3][n % 3]],
      created_at: now - (6 - Math.floor(n / 2)) * week,
    })),
  });
  // A reload, not only a new hash: the console reads the custom field definitions when it opens.
  await admin.goto(`${url}/admin/#ideas`);
  await admin.reload();
  await admin.getByLabel('Filter field').selectOption({ label: 'Account region' });
  await admin.getByLabel('Filter value').selectOption('EU');
  await admin.getByRole('button', { name: 'Add filter' }).click();
  await admin.getByRole('button', { name: 'MRR behind it' }).click();
  await admin.getByLabel('NPS of this segment').getByRole('img').waitFor();
  await admin.getByRole('tabpanel').locator('tbody tr').first().waitFor();
  await admin.waitForTimeout(300);
  await admin.screenshot({ path: join(ROOT, 'docs', 'segments.png') });
  if (tabsDir) {
    await admin.getByRole('tab', { name: 'Ideas' }).click();
    await admin.getByRole('table').waitFor();
    await admin.screenshot({ path: join(tabsDir, 'ideas.png') });
    await admin.getByRole('button', { name: 'MRR behind it' }).click();
    await admin.screenshot({ path: join(tabsDir, 'ideas-by-mrr.png') });
    for (const tab of ['Users', 'Accounts']) {
      await admin.getByRole('tab', { name: tab }).click();
      await admin.getByRole('table').waitFor();
      await admin.screenshot({ path: join(tabsDir, `${tab.toLowerCase()}.png`) });
    }
    await admin.getByRole('button', { name: 'Forget key' }).click();
    await admin.getByLabel('Admin key').fill('not-the-key');
    await admin.getByRole('button', { name: 'Open console' }).click();
    await admin.getByRole('alert').waitFor();
    await admin.screenshot({ path: join(tabsDir, 'bad-key.png') });
  }
  console.log('wrote docs/demo.png, docs/admin.png, docs/person.png, docs/import.png and docs/segments.png');
} finally {
  await browser.close();
  server.closeAllConnections();
  await collector.close(server);
  rmSync(dataDir, { recursive: true, force: true });
}
