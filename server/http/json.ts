/**
 * JSON parsing for untrusted bodies. JSON.parse alone accepts things that hurt later
 * (docs/DESIGN.md#measured-facts): `__proto__` as an own key (prototype pollution through any merge), nesting
 * deep enough to make every later JSON.stringify of the store throw, and `1e999` (Infinity,
 * written back as null). This rejects all three, naming where.
 */
import { JSON_MAX_DEPTH } from '../../shared/limits.ts';
import { invalid } from './errors.ts';

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

export function parseJson(text: string, maxDepth = JSON_MAX_DEPTH): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('request body is not valid JSON', [{ field: '(body)', message: 'malformed JSON' }]);
  }
  const problem = check(value, 0, maxDepth);
  if (problem) {
    const field = problem.path.reverse().join('.') || '(body)';
    if (problem.kind === 'number') throw invalid('numbers must be finite', [{ field, message: 'number out of range' }]);
    if (problem.kind === 'depth')
      throw invalid(`JSON nested deeper than ${maxDepth} levels`, [{ field, message: 'too deeply nested' }]);
    throw invalid(`forbidden key "${problem.path[problem.path.length - 1]}"`, [{ field, message: 'forbidden key' }]);
  }
  return value;
}

/** What is wrong and where: the path is collected leaf first, on the way back up. */
interface Problem {
  kind: 'number' | 'depth' | 'key';
  path: string[];
}

/**
 * Walks a parsed value without allocating anything unless it finds a problem (it runs on every
 * request body, so building a path string per node cost about half as much as JSON.parse
 * itself). Recursion is safe: it never goes deeper than `maxDepth` before refusing.
 */
function check(v: unknown, depth: number, maxDepth: number): Problem | null {
  if (typeof v === 'number') return Number.isFinite(v) ? null : { kind: 'number', path: [] };
  if (v === null || typeof v !== 'object') return null;
  if (depth >= maxDepth) return { kind: 'depth', path: [] };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = check(v[i], depth + 1, maxDepth);
      if (p) {
        p.path.push(String(i));
        return p;
      }
    }
    return null;
  }
  for (const key in v) {
    if (FORBIDDEN.has(key)) return { kind: 'key', path: [key] };
    const p = check((v as Record<string, unknown>)[key], depth + 1, maxDepth);
    if (p) {
      p.path.push(key);
      return p;
    }
  }
  return null;
}
