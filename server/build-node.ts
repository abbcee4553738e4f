/**
 * Bundles the collector (`server/main.ts` → `dist/server.js`) and the operator CLI
 * (`server/cli.ts` → `dist/cli.js`) for plain `node`, so production runs without tsx: npm start
 * execs `node dist/server.js`, and a signal to npm reaches the collector itself (README "The
 * two commands"). Packages stay external (node_modules is used as installed); the sources the
 * server reads at run time (SQL migrations, the demo page, the console's static files) stay
 * where they are in the repository.
 */
import { build, type Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

/** The node bundles: entry point (relative to the repo root) and output file in dist/. */
export const NODE_BUNDLES = [
  { entry: 'server/main.ts', out: 'server.js' },
  { entry: 'server/cli.ts', out: 'cli.js' },
  // The embedded engine's store worker, which the collector starts beside itself (engines/embedded/worker-store.ts).
  { entry: 'server/engines/embedded/worker.ts', out: 'store-worker.js' },
];

/**
 * Keeps `import.meta.url` meaning "this source file" inside a bundle. Modules find files beside
 * them with it (`new URL('./sql/', import.meta.url)`, `paths.ts`'s ROOT); bundled, every
 * module would otherwise see the bundle's URL. Each use becomes the source file's URL, spelled
 * relative to the bundle, so the bundle still works if the repository moves.
 */
function sourceImportMetaUrl(outdir: string): Plugin {
  return {
    name: 'source-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.tsx?$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const fromBundle = relative(outdir, args.path).split(sep).join('/');
        return {
          contents: source.replaceAll(
            'import.meta.url',
            `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`,
          ),
          loader: args.path.endsWith('x') ? 'tsx' : 'ts',
        };
      });
    },
  };
}

/** Builds the node bundles from the repository at `root` into `outdir`; returns their paths. */
export async function buildNode(root: string, outdir: string): Promise<string[]> {
  const outs: string[] = [];
  for (const b of NODE_BUNDLES) {
    const outfile = join(outdir, b.out);
    await build({
      entryPoints: [join(root, b.entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      legalComments: 'none',
      logLevel: 'warning',
      plugins: [sourceImportMetaUrl(dirname(outfile))],
      // Tells worker-store.ts to start the bundled worker rather than its TypeScript source.
      define: { __PARLEY_BUNDLE__: 'true' },
    });
    outs.push(outfile);
  }
  return outs;
}
