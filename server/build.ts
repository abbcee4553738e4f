/**
 * Builds the browser bundles into dist/ with esbuild. `--size` also prints raw, gzip and
 * brotli sizes per file. The collector serves dist/ (widget at /widget.js, the lazily loaded
 * panel beside it, the admin console at /admin/).
 */
import { build, type BuildOptions } from 'esbuild';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { buildNode } from './build-node.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');

/** One bundle: its entry point (relative to the repo root) and its output file in dist/. */
interface Bundle {
  entry: string;
  out: string;
  format: 'iife' | 'esm';
  /** Build-time constants (esbuild `define`), e.g. the widget's `__DEBUG__` (widget/log.ts). */
  define?: Record<string, string>;
}

/**
 * Every browser bundle. widget.js is what every host page pays for; widget.debug.js is the same
 * code with its console messages compiled in; panel.js is loaded only when the feedback panel is
 * first needed; sources.js only on pages whose embed reads Segment's or Intercom's identity;
 * admin.js is the admin console.
 */
export const BUNDLES: Bundle[] = [
  { entry: 'widget/index.ts', out: 'widget.js', format: 'iife', define: { __DEBUG__: 'false' } },
  { entry: 'widget/index.ts', out: 'widget.debug.js', format: 'iife', define: { __DEBUG__: 'true' } },
  { entry: 'widget/panel/index.tsx', out: 'panel.js', format: 'iife' },
  { entry: 'widget/sources/index.ts', out: 'sources.js', format: 'iife' },
  { entry: 'server/console/index.tsx', out: 'admin/admin.js', format: 'iife' },
];

const common: BuildOptions = {
  bundle: true,
  minify: true,
  target: ['chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
};

/** Builds every bundle whose entry exists; returns the output paths. */
export async function buildAll(outdir = DIST): Promise<string[]> {
  mkdirSync(outdir, { recursive: true });
  const outs: string[] = [];
  for (const b of BUNDLES) {
    const entry = join(ROOT, b.entry);
    if (!existsSync(entry)) continue;
    const outfile = join(outdir, b.out);
    await build({ ...common, entryPoints: [entry], outfile, format: b.format, define: b.define });
    outs.push(outfile);
  }
  return outs;
}

/** Raw, gzip -9 and brotli sizes of a file, in bytes. */
export function sizes(file: string) {
  const buf = readFileSync(file);
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outs = await buildAll();
  await buildNode(ROOT, DIST); // the collector and the CLI for plain node (build-node.ts)
  if (process.argv.includes('--size')) {
    for (const f of outs) console.log(f.slice(DIST.length + 1).padEnd(20), JSON.stringify(sizes(f)));
  }
}
