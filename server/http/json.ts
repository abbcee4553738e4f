/**
 * JSON parsing for untrusted bodies. JSON.parse alone accepts things that hurt later
 * (FIELD-NOTES): `__proto__` as an own key (prototype pollution through any merge), nesting
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
  // Iterative walk: a recursive one would overflow the stack on hostile nesting.
  const stack: [unknown, string, number][] = [[value, '', 0]];
  while (stack.length > 0) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) throw invalid('numbers must be finite', [{ field: path || '(body)', message: 'number out of range' }]);
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) throw invalid(`JSON nested deeper than ${maxDepth} levels`, [{ field: path || '(body)', message: 'too deeply nested' }]);
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push([item, path ? `${path}.${i}` : String(i), depth + 1]));
      continue;
    }
    for (const key of Object.keys(v)) {
      const at = path ? `${path}.${key}` : key;
      if (FORBIDDEN.has(key)) throw invalid(`forbidden key "${key}"`, [{ field: at, message: 'forbidden key' }]);
      stack.push([(v as Record<string, unknown>)[key], at, depth + 1]);
    }
  }
  return value;
}
