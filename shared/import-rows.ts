/**
 * Import rows to records, shared by the CLI (server/cli/records.ts) and the console's Import page
 * (server/console/import/): a CSV row becomes a record through the field path each column fills,
 * a JSONL line is parsed into one. Pure and dependency-free, so it runs in a browser; nothing is
 * validated here beyond the row's own shape (the shared import schema judges records).
 */

/** One row as a record, or why it could not be read. */
export interface RowRecord {
  record?: Record<string, unknown>;
  error?: string;
}

/** Leaf columns holding whole numbers: CSV cells are text, the schema wants numbers there. */
const INTEGER_COLUMNS = new Set(['mrr_cents', 'ltv_cents', 'external_created_at', 'created_at']);

/**
 * Turns the columns' field paths (server/cli/columns.ts, or the console's mapping; null for a skipped column) into a function from
 * a data row to a record. Empty cells are absent fields; `tags` is `|`-separated; whole-number
 * cells of the money and time columns become numbers. Every other cell stays the text it was
 * (a leading `=` or `-` included: nothing is evaluated); the collector coerces custom field
 * values to their definitions.
 */
export function rowMapper(paths: (string[] | null)[], numbered = false): (cells: string[]) => RowRecord {
  return (cells) => {
    if (cells.length > paths.length)
      return {
        error: numbered
          ? `row has ${cells.length} fields but the first row has ${paths.length}`
          : `row has ${cells.length} fields but the header has ${paths.length}`,
      };
    const record: Record<string, unknown> = {};
    cells.forEach((cell, i) => {
      const path = paths[i];
      if (!path || cell === '') return;
      const leaf = path[path.length - 1];
      let value: unknown = cell;
      if (leaf === 'tags')
        value = cell
          .split('|')
          .map((t) => t.trim())
          .filter(Boolean);
      else if (INTEGER_COLUMNS.has(leaf) && /^\d{1,15}$/.test(cell.trim())) value = Number(cell.trim());
      let at = record;
      for (const key of path.slice(0, -1)) {
        if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
        at = at[key] as Record<string, unknown>;
      }
      at[leaf] = value;
    });
    return { record };
  };
}

/** Parses one JSONL line into a record. */
export function jsonlRecord(line: string): RowRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: 'line is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: 'line is not a JSON object' };
  return { record: value as Record<string, unknown> };
}
