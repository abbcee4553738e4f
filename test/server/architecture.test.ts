/**
 * Arrows point down (README, Code map): every import of every `server/**` file, read with
 * TypeScript's own pre-processor (static, type-only, re-exports and dynamic `import()` alike),
 * checked against the layers. An engine implements ports below the intake and never calls up;
 * the core calls only its own ports; nothing outside `server/engines/` picks an engine but
 * `engines/index.ts`; and no two files import each other, however indirectly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../server/paths.ts';

const SERVER = join(ROOT, 'server');

/** Every `.ts`/`.tsx` file under `dir`, relative to server/ with forward slashes. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? files(join(dir, d.name))
      : /\.tsx?$/.test(d.name)
        ? [relative(SERVER, join(dir, d.name)).split('\\').join('/')]
        : [],
  );
}

/** The server files each server file imports (relative specifiers only; packages and shared/ are not layers here). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files(SERVER)) {
    const text = readFileSync(join(SERVER, file), 'utf8');
    const targets = ts
      .preProcessFile(text, true, true)
      .importedFiles.map((f) => f.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) =>
        relative(SERVER, resolve(join(SERVER, dirname(file)), spec))
          .split('\\')
          .join('/'),
      )
      .filter((target) => !target.startsWith('..'));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** A file's layer, named for its folder (or the file itself at the top of server/). */
const layerOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file.replace(/\.tsx?$/, ''));

const UPPER = ['intake', 'http', 'routes', 'trust', 'app', 'collector', 'main', 'cli'];
/** [importing layer, layers it must not import, why]. */
const FORBIDDEN: [string, string[], string][] = [
  ['engines', UPPER, 'an engine implements the ports below the intake (core/) and never calls up'],
  ['core', ['engines', ...UPPER], 'the core calls only its own ports; engines plug in from outside'],
  [
    'intake',
    ['engines', 'http', 'routes', 'app', 'collector', 'main', 'cli'],
    'the intake sees ports, never an engine or HTTP',
  ],
  ['http', ['engines', 'intake', 'routes', 'app', 'collector', 'main', 'cli'], 'HTTP helpers sit below the routes'],
  [
    'routes',
    ['engines', 'app', 'collector', 'main', 'cli'],
    'routes see the Store port, not an engine, nor the app that mounts them',
  ],
  ['trust', ['engines', 'intake', 'routes', 'app', 'collector', 'main', 'cli'], 'trust rules sit below the routes'],
];

/** Import arrows that break the layering, as `from → to (why)`. */
function upwardArrows(graph: Map<string, string[]>): string[] {
  const bad: string[] = [];
  for (const [from, targets] of graph) {
    const rules = FORBIDDEN.filter(([layer]) => layerOf(from) === layer);
    for (const to of targets) {
      for (const [, forbidden, why] of rules) if (forbidden.includes(layerOf(to))) bad.push(`${from} → ${to} (${why})`);
      // The one place that picks an engine: outside engines/, only engines/index.ts is imported.
      if (layerOf(to) === 'engines' && layerOf(from) !== 'engines' && to !== 'engines/index.ts')
        bad.push(`${from} → ${to} (only engines/index.ts picks and opens an engine)`);
    }
  }
  return bad;
}

/** Every import cycle, each as the files around it (Tarjan's strongly connected components). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the server’s import arrows', () => {
  const graph = importGraph();

  it('reads the imports of every server file, type-only and dynamic ones included', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('routes/admin.ts')).toContain('routes/deps.ts'); // `import type`
    expect(graph.get('cli.ts')).toContain('cli/sites.ts'); // `import()`
    expect(graph.get('engines/index.ts')).toContain('engines/embedded/index.ts');
  });

  it('points down only: no engine, core, intake, HTTP or route file imports a layer above it', () => {
    expect(upwardArrows(graph)).toEqual([]);
  });

  it('has no import cycle between files', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('catches an upward arrow and a cycle when there is one', () => {
    const bad = new Map(graph);
    bad.set('engines/embedded/lock.ts', ['intake/intake.ts']);
    bad.set('core/store.ts', ['core/identify.ts']);
    expect(upwardArrows(bad)).toContain(
      'engines/embedded/lock.ts → intake/intake.ts (an engine implements the ports below the intake (core/) and never calls up)',
    );
    expect(cycles(bad)).toContainEqual(['core/identify.ts', 'core/store.ts']);
  });
});
