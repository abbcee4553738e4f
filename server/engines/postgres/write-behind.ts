/**
 * Set-based writes for one transaction. Applying an identify entry used to write each person
 * with its own statements (an external user, an account, a pending identity, a message id:
 * several round trips per person, docs/PERFORMANCE.md#postgresql). Inside an entry's
 * transaction the store records its writes here instead — the last write of each row wins,
 * in the order rows were first written — and `flush` sends them as one multi-row statement
 * statement: per table, `INSERT … SELECT FROM unnest(…) ON CONFLICT … DO UPDATE` for rows
 * written and `DELETE … USING unnest(…)` for rows deleted, each a WITH query of that one
 * statement. So an entry costs the same round trips whether it names 20 people or 500.
 *
 * What the transaction reads meanwhile is answered from its read-ahead, which every recorded
 * write also updates (read-ahead.ts); any other query on the connection flushes first
 * (store.ts), so a transaction always sees its own writes, as it did statement by statement.
 * Statements are named, so each connection parses and plans them once (docs/POSTGRES.md).
 */
import type pg from 'pg';

/** A table the intake writes in bulk, with its columns and their SQL types, key columns first. */
interface TableDef {
  cols: [name: string, type: string][];
  /** How many leading columns are the primary key. */
  keyCols: number;
}

export const TABLES = {
  users: {
    cols: [
      ['site', 'text'],
      ['id', 'text'],
      ['email', 'text'],
      ['email_lc', 'text'],
      ['name_key', 'text'],
      ['created_at', 'float8'],
      ['updated_at', 'float8'],
      ['doc', 'jsonb'],
    ],
    keyCols: 2,
  },
  external_users: {
    cols: [
      ['site', 'text'],
      ['external_id', 'text'],
      ['user_id', 'text'],
      ['account_key', 'text'],
      ['type', 'text'],
      ['name_lc', 'text'],
      ['updated_at', 'float8'],
      ['doc', 'jsonb'],
    ],
    keyCols: 2,
  },
  accounts: {
    cols: [
      ['site', 'text'],
      ['key', 'text'],
      ['name_key', 'text'],
      ['mrr_cents', 'float8'],
      ['ltv_cents', 'float8'],
      ['created_at', 'float8'],
      ['doc', 'jsonb'],
    ],
    keyCols: 2,
  },
  pending: {
    cols: [
      ['site', 'text'],
      ['external_id', 'text'],
      ['email', 'text'],
      ['received_at', 'float8'],
      ['doc', 'jsonb'],
    ],
    keyCols: 2,
  },
  pending_accounts: {
    cols: [
      ['site', 'text'],
      ['key', 'text'],
      ['updated_at', 'float8'],
      ['doc', 'jsonb'],
    ],
    keyCols: 2,
  },
  messages: {
    cols: [
      ['site', 'text'],
      ['message_id', 'text'],
      ['at', 'float8'],
    ],
    keyCols: 2,
  },
} satisfies Record<string, TableDef>;

export type Table = keyof typeof TABLES;
/** Tables in the order a flush writes them (any order is correct: each key appears once per table). */
const ORDER = Object.keys(TABLES) as Table[];

/**
 * The multi-row upsert of `table`, its column arrays from parameter `$from` on. A jsonb column
 * travels as one JSON array (`[doc,doc,…]`), not as a text[] of documents: node-postgres
 * escapes every quote of every element of a text[] and measures the doubled string again,
 * which was the collector's largest cost in applying (docs/PERFORMANCE.md#postgresql), while
 * documents joined by commas are already a valid literal. Row n takes the array's element n.
 */
export function upsertSql(table: Table, from = 1): string {
  const { cols, keyCols } = TABLES[table] as TableDef;
  const names = cols.map(([n]) => n);
  const plain = cols.filter(([, t]) => t !== 'jsonb');
  const arrays = plain.map(([, t], i) => `$${from + i}::${t}[]`);
  let next = from + plain.length;
  const joins: string[] = [];
  const values = cols.map(([n, t]) => {
    if (t !== 'jsonb') return `r.${n}`;
    joins.push(`JOIN jsonb_array_elements($${next++}::jsonb) WITH ORDINALITY AS j_${n}(v, n) ON j_${n}.n = r.n__`);
    return `j_${n}.v`;
  });
  const updates = names.slice(keyCols).map((n) => `${n} = EXCLUDED.${n}`);
  // WITH ORDINALITY … ORDER BY keeps the rows' order, so new rows take `pos` (creation order) as written.
  return `INSERT INTO ${table} (${names.join(', ')})
    SELECT ${values.join(', ')} FROM unnest(${arrays.join(', ')}) WITH ORDINALITY AS r(${plain.map(([n]) => n).join(', ')}, n__)
    ${joins.join(' ')} ORDER BY r.n__
    ON CONFLICT (${names.slice(0, keyCols).join(', ')}) DO UPDATE SET ${updates.join(', ')}`;
}

/** A put's parameters in upsertSql's order: each plain column an array, each jsonb column one JSON array. */
function putValues(table: Table, rows: unknown[][]): unknown[] {
  const { cols } = TABLES[table] as TableDef;
  const byCol = columns(rows, cols.length);
  const plain = byCol.filter((_, i) => cols[i][1] !== 'jsonb');
  const json = byCol.filter((_, i) => cols[i][1] === 'jsonb').map((docs) => `[${docs.join(',')}]`);
  return [...plain, ...json];
}

/** The multi-row delete of `table` by primary key, its key arrays from parameter `$from` on. */
export function deleteSql(table: Table, from = 1): string {
  const { cols, keyCols } = TABLES[table] as TableDef;
  const keys = cols.slice(0, keyCols);
  const arrays = keys.map(([, t], i) => `$${from + i}::${t}[]`);
  return `DELETE FROM ${table} t USING unnest(${arrays.join(', ')}) AS d(${keys.map(([n]) => n).join(', ')})
    WHERE ${keys.map(([n]) => `t.${n} = d.${n}`).join(' AND ')}`;
}

/**
 * One statement for every part of a flush: each upsert and delete a data-modifying WITH
 * query. They run on one snapshot and touch distinct rows (a key is written or deleted, never
 * both), so their order does not matter; each still fires its table's statement triggers
 * (the row counts, sql/003_row_counts.sql). Memoized by the parts present, which also names
 * the prepared statement.
 */
const FLUSH = new Map<string, string>();
function flushSql(parts: Part[]): { name: string; text: string } {
  const name = `parley_flush_${parts.map((p) => `${p.kind[0]}${ORDER.indexOf(p.table)}`).join('')}`;
  let text = FLUSH.get(name);
  if (!text) {
    let from = 1;
    const ctes = parts.map((p, i) => {
      const sql = p.kind === 'put' ? upsertSql(p.table, from) : deleteSql(p.table, from);
      from += p.values.length;
      return `w${i} AS (${sql})`;
    });
    text = `WITH ${ctes.join(',\n')} SELECT 1`;
    FLUSH.set(name, text);
  }
  return { name, text };
}

interface Part {
  kind: 'put' | 'del';
  table: Table;
  /** Parameters: one array per key column (del), or as putValues orders them (put). */
  values: unknown[];
}

export class WriteBehind {
  /** Per table: row key → the row's column values (a write) or null (a delete). */
  private readonly rows = new Map<Table, Map<string, unknown[] | null>>();

  /** Records that `row` (column values in TABLES order) is written. */
  put(table: Table, row: unknown[]): void {
    this.of(table).set(keyOf(table, row), row);
  }

  /** Records that the row with these key values is deleted. */
  delete(table: Table, key: unknown[]): void {
    this.of(table).set(keyOf(table, key), null);
  }

  get size(): number {
    let n = 0;
    for (const m of this.rows.values()) n += m.size;
    return n;
  }

  /** Writes what was recorded, in one statement, and forgets it. */
  async flush(db: pg.Pool | pg.ClientBase): Promise<void> {
    const parts: Part[] = [];
    for (const table of ORDER) {
      const m = this.rows.get(table);
      if (!m) continue;
      const { keyCols } = TABLES[table] as TableDef;
      const puts: unknown[][] = [];
      const dels: unknown[][] = [];
      for (const [k, row] of m) {
        if (row) puts.push(row);
        else dels.push(JSON.parse(k) as unknown[]);
      }
      if (dels.length) parts.push({ kind: 'del', table, values: columns(dels, keyCols) });
      if (puts.length) parts.push({ kind: 'put', table, values: putValues(table, puts) });
    }
    this.rows.clear();
    if (parts.length) await db.query({ ...flushSql(parts), values: parts.flatMap((p) => p.values) });
  }

  private of(table: Table): Map<string, unknown[] | null> {
    let m = this.rows.get(table);
    if (!m) this.rows.set(table, (m = new Map()));
    return m;
  }
}

function keyOf(table: Table, row: unknown[]): string {
  return JSON.stringify(row.slice(0, TABLES[table].keyCols));
}

/** Rows → one array per column (what unnest takes). */
function columns(rows: unknown[][], n: number): unknown[][] {
  const out: unknown[][] = Array.from({ length: n }, () => new Array(rows.length));
  rows.forEach((row, r) => {
    for (let c = 0; c < n; c++) out[c][r] = row[c];
  });
  return out;
}
