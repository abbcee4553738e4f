/**
 * Which field each CSV column fills (README.md#operator-cli): by default a column fills the
 * field its header names (JSON field names, nested ones dotted); `--map 'Customer
 * Type=cf_customer_type'` maps a header to a field instead, and `--map 'Notes='` skips a
 * column. Without a header row (`--no-header`) columns are named by their 1-based number
 * (`--map '3=email'`) and only mapped columns are read. A map that names no column, or two
 * columns filling one field, stop the import before anything is sent. Pure.
 */
import { CsvError } from '../../shared/csv.ts';

/** Column name (a header, or a 1-based number) → field path, or '' to skip the column. */
export type ColumnMap = Map<string, string>;

const FIELD_PATH = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A usage error: the command line, not the file, is wrong. */
export class UsageError extends Error {}

/** Parses `--map` values (`NAME=field`, split at the last `=`: header names may contain one). */
export function parseMaps(specs: string[], numbered: boolean): ColumnMap {
  const map: ColumnMap = new Map();
  for (const spec of specs) {
    const at = spec.lastIndexOf('=');
    if (at < 0) throw new UsageError(`--map "${spec}": write it as 'Column name=field' (or 'Column name=' to skip it)`);
    const name = spec.slice(0, at).trim();
    const field = spec.slice(at + 1).trim();
    if (name === '') throw new UsageError(`--map "${spec}": the column name is empty`);
    if (numbered && !/^[1-9]\d{0,5}$/.test(name))
      throw new UsageError(`--map "${spec}": with --no-header, columns are named by their number, from 1`);
    if (field !== '' && (!FIELD_PATH.test(field) || field.split('.').some((p) => UNSAFE_KEYS.has(p))))
      throw new UsageError(`--map "${spec}": "${field}" is not a field name (letters, digits, _ and dots)`);
    if (map.has(name)) throw new UsageError(`--map "${spec}": column "${name}" is mapped twice`);
    map.set(name, field);
  }
  return map;
}

/**
 * The field path each column fills (null: skipped), given the column names: the header row,
 * or numbers 1..width without one.
 */
export function columnPaths(names: string[], map: ColumnMap, numbered: boolean): (string[] | null)[] {
  const trimmed = names.map((n) => n.trim());
  for (const name of map.keys())
    if (!trimmed.includes(name))
      throw new CsvError(
        numbered
          ? `--map names column ${name}, but the first row has ${names.length} columns`
          : `--map names column "${name}", which is not in the header (${trimmed.map((n) => `"${n}"`).join(', ')})`,
      );
  const paths = trimmed.map((name) => {
    const field = map.get(name) ?? (numbered ? '' : name);
    const parts = field.split('.');
    return field === '' || parts.some((p) => p === '' || UNSAFE_KEYS.has(p)) ? null : parts;
  });
  const filledBy = new Map<string, string>();
  paths.forEach((p, i) => {
    if (!p) return;
    const field = p.join('.');
    const other = filledBy.get(field);
    if (other !== undefined)
      throw new CsvError(`columns "${other}" and "${trimmed[i]}" both fill the field "${field}": map or skip one`);
    filledBy.set(field, trimmed[i]);
  });
  return paths;
}
