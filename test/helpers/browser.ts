/**
 * Real Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core. When
 * it is missing, CI fails with the command that installs it; a developer's machine skips the
 * browser suites with a loud warning instead.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe } from 'vitest';

export const CHROMIUM_PATH = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';
const present = existsSync(CHROMIUM_PATH);

if (!present && !process.env.CI) {
  console.warn(
    `\n*** ${CHROMIUM_PATH} not found: SKIPPING real-browser tests. Install it with: apt-get install -y chromium ***\n`,
  );
}

/** `describe` for suites that need Chromium: skipped locally without it, failing in CI. */
export const describeBrowser: typeof describe =
  present || process.env.CI ? describe : (describe.skip as typeof describe);

/** Launches headless Chromium; one per test file, closed in afterAll. */
export async function launchBrowser(): Promise<Browser> {
  if (!present) throw new Error(`${CHROMIUM_PATH} is missing: run apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
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
}

/**
 * Records what a page does wrong: uncaught errors (`pageerror`) and CSP violations, which
 * Chromium reports on the console. Tests assert both lists stay empty.
 */
export function watch(page: Page): { errors: string[]; violations: string[] } {
  const found = { errors: [] as string[], violations: [] as string[] };
  page.on('pageerror', (e) => found.errors.push(String(e)));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) found.violations.push(m.text());
  });
  return found;
}
