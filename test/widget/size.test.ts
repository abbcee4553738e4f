/**
 * Size is a budget, enforced here: widget.js is what every host page pays for, so it must stay
 * small; panel.js (launcher and panel) is loaded later but still counts. Builds the real bundles
 * with the production options into a temp dir and gzips them at level 9. The console messages
 * are a separate build (widget.debug.js, widget/log.ts): checked here to be absent from
 * widget.js and present in widget.debug.js.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAll, sizes } from '../../server/build.ts';
import { ROOT } from '../../server/paths.ts';

/**
 * Hard limit for widget.js, gzip: 5 KB. Reading Segment's and Intercom's identity
 * (docs/API.md#already-using-segment-or-intercom) is sources.js, which only pages that opt in
 * fetch: widget.js carries only its loading.
 */
const WIDGET_GZIP_MAX = 5 * 1024;
/** Hard limit for sources.js, gzip: Segment and Intercom reading, loaded only by sites that opt in. */
const SOURCES_GZIP_MAX = 3.5 * 1024;
/** Hard limit for everything the widget may load: widget.js + panel.js, gzip. */
const TOTAL_GZIP_MAX = 16 * 1024;
/** Server-side libraries whose code must never reach a browser. */
const FORBIDDEN = ['zod', 'express', 'lowdb', 'ZodError', 'safeParse'];

let dir: string;
let out: Record<string, string>;

/**
 * The text of every console message in widget.js's sources: the literal start of each
 * `log.warn(...)` argument and of each reason `normalizeIdentity` or `readConfig` gives.
 */
function messages(): string[] {
  const found = new Set<string>();
  for (const file of readdirSync(join(ROOT, 'widget')).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(join(ROOT, 'widget', file), 'utf8');
    const calls = /(?:log\.warn\(|problems\.push\(|__DEBUG__ \? )\s*['`"]([^'`"$]{8,})/g;
    for (const m of source.matchAll(calls)) found.add(m[1]);
  }
  return [...found];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-size-'));
  const files = await buildAll(dir);
  out = Object.fromEntries(files.map((f) => [f.slice(dir.length + 1), f]));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bundle size', () => {
  it(`keeps widget.js under ${WIDGET_GZIP_MAX} bytes gzipped`, () => {
    const s = sizes(out['widget.js']);
    console.log('widget.js', s, 'widget.debug.js', sizes(out['widget.debug.js']));
    expect(s.gzip).toBeLessThanOrEqual(WIDGET_GZIP_MAX);
  });

  it(`keeps widget.js and panel.js together under ${TOTAL_GZIP_MAX} bytes gzipped`, () => {
    const panel = sizes(out['panel.js']);
    console.log('panel.js', panel);
    expect(sizes(out['widget.js']).gzip + panel.gzip).toBeLessThanOrEqual(TOTAL_GZIP_MAX);
  });

  it(`keeps sources.js, a separate chunk, under ${SOURCES_GZIP_MAX} bytes gzipped`, () => {
    const s = sizes(out['sources.js']);
    console.log('sources.js', s);
    expect(s.gzip).toBeLessThanOrEqual(SOURCES_GZIP_MAX);
    // widget.js holds none of the reading: no Segment or Intercom key reaches every page.
    expect(readFileSync(out['widget.js'], 'utf8')).not.toMatch(/ajs_user|intercomSettings/);
  });

  it('ships no zod, express or lowdb code to the browser', () => {
    for (const file of ['widget.js', 'widget.debug.js', 'panel.js', 'sources.js']) {
      const text = readFileSync(out[file], 'utf8');
      for (const word of FORBIDDEN) expect(text.includes(word), `${word} in ${file}`).toBe(false);
    }
  });

  it('keeps Preact out of widget.js', () => {
    const text = readFileSync(out['widget.js'], 'utf8');
    expect(text).not.toMatch(/__H|createElement\("parley/);
    expect(text).not.toContain('adoptedStyleSheets');
  });
});

describe('debug build', () => {
  it('finds the messages it checks for', () => {
    expect(messages()).toEqual(
      expect.arrayContaining(['identify needs an email', 'already running; this copy stays off']),
    );
    expect(messages().length).toBeGreaterThan(15);
  });

  it('leaves every console message out of widget.js', () => {
    const text = readFileSync(out['widget.js'], 'utf8');
    expect(messages().filter((m) => text.includes(m))).toEqual([]);
    expect(text).not.toContain('[parley]');
  });

  it('keeps every one of them in widget.debug.js', () => {
    const text = readFileSync(out['widget.debug.js'], 'utf8');
    expect(messages().filter((m) => !text.includes(m))).toEqual([]);
    expect(text).toContain('[parley]');
  });
});
