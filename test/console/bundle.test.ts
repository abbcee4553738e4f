/**
 * The console bundle stays browser code: the Import page reuses the CLI's pure CSV and row
 * code from shared/, but zod (the collector's validation) and Node built-ins never ship to the
 * browser (README.md#code-map). Built in memory with the production options.
 */
import { build } from 'esbuild';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { BUNDLES, ROOT } from '../../server/build.ts';

it('bundles the console without zod or node: modules, with the shared CSV parser in it', async () => {
  const console = BUNDLES.find((b) => b.out === 'admin/admin.js')!;
  const out = await build({
    entryPoints: [join(ROOT, console.entry)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'browser',
    format: 'iife',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'silent',
  });
  const inputs = Object.keys(out.metafile.inputs);
  expect(inputs.filter((f) => /node_modules[/\\]zod|^node:/.test(f))).toEqual([]);
  expect(inputs).toContain('shared/csv.ts');
  expect(inputs).toContain('shared/import-rows.ts');
}, 30_000);
