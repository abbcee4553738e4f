/**
 * Reading an import file as a stream of records (README.md#operator-cli): `.csv` with a header row whose
 * names are the JSON field names, nested ones dotted (`account.external_id`, `account.cf_region`),
 * or `.jsonl` with one JSON object per line. Records are numbered from 1, counting data records
 * only (not the header, not blank lines). Nothing is validated here beyond the file's own syntax;
 * the shared import schema judges the records.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { columnPaths, type ColumnMap } from './columns.ts';
import { CsvError, CsvParser } from '../../shared/csv.ts';
import { jsonlRecord, rowMapper, type RowRecord } from '../../shared/import-rows.ts';

export { jsonlRecord, rowMapper };

/** One data record of the file, or why it could not be read; `bytes` read so far, for progress. */
export interface FileRecord extends RowRecord {
  number: number;
  bytes: number;
}

/** Text chunks of a file, decoded as UTF-8 across chunk boundaries, with the bytes read so far. */
async function* chunks(path: string): AsyncGenerator<{ text: string; bytes: number }> {
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  for await (const buf of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    bytes += buf.length;
    yield { text: decoder.write(buf), bytes };
  }
  yield { text: decoder.end(), bytes };
}

export type FileFormat = 'csv' | 'jsonl';

export function formatOf(path: string): FileFormat | null {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  return null;
}

/** How a CSV file's columns become fields (columns.ts). */
export interface CsvLayout {
  delimiter?: string;
  /** The first row names the columns. @default true */
  header?: boolean;
  map?: ColumnMap;
}

/**
 * Streams the records of a CSV file. Throws CsvError when the header row is missing or a
 * `--map` does not fit the columns.
 */
export async function* csvRecords(path: string, layout: CsvLayout = {}): AsyncGenerator<FileRecord> {
  const parser = new CsvParser(layout.delimiter ?? ',');
  const header = layout.header ?? true;
  let map: ReturnType<typeof rowMapper> | null = null;
  let number = 0;
  let bytes = 0;
  function* emit(rows: string[][]): Generator<FileRecord> {
    for (const row of rows) {
      if (!map) {
        const names = header ? row : row.map((_, i) => String(i + 1));
        map = rowMapper(columnPaths(names, layout.map ?? new Map(), !header), !header);
        if (header) continue;
      }
      yield { number: ++number, bytes, ...map(row) };
    }
  }
  for await (const chunk of chunks(path)) {
    bytes = chunk.bytes;
    yield* emit(parser.push(chunk.text));
  }
  try {
    yield* emit(parser.end());
  } catch (e) {
    if (!(e instanceof CsvError)) throw e;
    yield { number: ++number, bytes, error: e.message };
  }
  if (!map) throw new CsvError(header ? 'the file is empty: a CSV import needs a header row' : 'the file is empty');
}

/** Streams the records of a JSONL file; blank lines are skipped and not counted. */
export async function* jsonlRecords(path: string): AsyncGenerator<FileRecord> {
  let rest = '';
  let number = 0;
  let bytes = 0;
  for await (const chunk of chunks(path)) {
    bytes = chunk.bytes;
    const lines = (rest + chunk.text).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (line.trim() === '') continue;
      yield { number: ++number, bytes: chunk.bytes, ...jsonlRecord(line.replace(/^\uFEFF/, '')) };
    }
  }
  if (rest.trim() !== '') yield { number: ++number, bytes, ...jsonlRecord(rest.replace(/^\uFEFF/, '')) };
}
