/**
 * Reading a chosen file in the browser without freezing the tab: the file is read in slices
 * (64 KB), each decoded (UTF-8 across slice boundaries) and fed to the shared streaming CSV
 * parser or split into JSONL lines, and the loop waits a macrotask between slices so the page
 * keeps painting and answering clicks. A 100k-row file is never parsed in one go, and only one
 * chunk of records is held at a time. Records are numbered from 1 like the CLI's (the header
 * and blank lines are not records). Works on any Blob, so tests run it in Node.
 */
import { CsvError, CsvParser } from '../../../shared/csv.ts';
import { jsonlRecord, rowMapper, type RowRecord } from '../../../shared/import-rows.ts';

export const SLICE_BYTES = 64 * 1024;

export type FileFormat = 'csv' | 'jsonl';

export interface CsvLayout {
  delimiter: string;
  header: boolean;
}

export interface NumberedRecord extends RowRecord {
  number: number;
}

/** Gives the event loop a turn: rendering, input, timers. */
export const yieldToPage = () => new Promise<void>((r) => setTimeout(r, 0));

/** The file's text, slice by slice, with the bytes read so far. */
async function* slices(file: Blob, sliceBytes: number): AsyncGenerator<{ text: string; bytes: number }> {
  const decoder = new TextDecoder('utf-8');
  for (let at = 0; at < file.size; at += sliceBytes) {
    const buf = await file.slice(at, at + sliceBytes).arrayBuffer();
    yield { text: decoder.decode(buf, { stream: true }), bytes: Math.min(file.size, at + sliceBytes) };
    await yieldToPage();
  }
  yield { text: decoder.decode(), bytes: file.size };
}

export function formatOf(name: string): FileFormat | null {
  const n = name.toLowerCase();
  return n.endsWith('.csv') ? 'csv' : n.endsWith('.jsonl') || n.endsWith('.ndjson') ? 'jsonl' : null;
}

/** The first rows of a CSV file, for the mapping table (the last, maybe cut, row of the sample is dropped). */
export async function previewCsv(file: Blob, delimiter: string, maxRows = 5): Promise<string[][]> {
  const sample = await file.slice(0, 64 * 1024).text();
  const parser = new CsvParser(delimiter);
  const rows = parser.push(sample);
  if (file.size <= 64 * 1024) rows.push(...parser.end());
  return rows.slice(0, maxRows);
}

/**
 * The file's records, in batches (one per slice read). `paths` are the mapped columns' field
 * paths (CSV only); `tag` is added to every user record's tags.
 */
export async function* readRecords(
  file: Blob,
  format: FileFormat,
  opts: { layout?: CsvLayout; paths?: (string[] | null)[]; sliceBytes?: number },
): AsyncGenerator<{ records: NumberedRecord[]; bytes: number }> {
  let number = 0;
  const sliceBytes = opts.sliceBytes ?? SLICE_BYTES;
  if (format === 'jsonl') {
    let rest = '';
    for await (const { text, bytes } of slices(file, sliceBytes)) {
      const lines = (rest + text).split('\n');
      rest = lines.pop()!;
      const records: NumberedRecord[] = [];
      for (const line of lines)
        if (line.trim() !== '') records.push({ number: ++number, ...jsonlRecord(line.replace(/^\uFEFF/, '')) });
      yield { records, bytes };
    }
    if (rest.trim() !== '')
      yield { records: [{ number: ++number, ...jsonlRecord(rest.replace(/^\uFEFF/, '')) }], bytes: file.size };
    return;
  }
  const layout = opts.layout ?? { delimiter: ',', header: true };
  const parser = new CsvParser(layout.delimiter);
  const map = rowMapper(opts.paths ?? [], !layout.header);
  let skipHeader = layout.header;
  const toRecords = (rows: string[][]) => {
    const out: NumberedRecord[] = [];
    for (const row of rows) {
      if (skipHeader) {
        skipHeader = false;
        continue;
      }
      out.push({ number: ++number, ...map(row) });
    }
    return out;
  };
  for await (const { text, bytes } of slices(file, sliceBytes)) yield { records: toRecords(parser.push(text)), bytes };
  try {
    yield { records: toRecords(parser.end()), bytes: file.size };
  } catch (e) {
    if (!(e instanceof CsvError)) throw e;
    yield { records: [{ number: ++number, error: e.message }], bytes: file.size };
  }
}
