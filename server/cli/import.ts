/**
 * `parley import users|accounts FILE --url URL --key ADMIN_KEY [--delimiter ;]` (README.md#operator-cli):
 * an HTTP client of a running collector. It streams the file, validates each record with the
 * same schema the collector uses, sends the valid ones in chunks of 1000 to the transactional
 * import, and when a chunk comes back 422 drops the records it names and resends the rest — so
 * every valid record is imported. Each failed record becomes a line of FILE.errors.csv
 * (`record_number,message,error_code,status_code`, numbers counting data records from 1); the
 * last line on stdout is `{"imported","failed","errors_file"}`.
 *
 * Exit code 0 when the import ran, even with failed records; 1 when it could not run (bad key,
 * unreachable collector, unreadable file); 2 for a usage error.
 */
import { createWriteStream, existsSync, statSync, type WriteStream } from 'node:fs';
import type { z } from 'zod';
import { importAccountSchema, importUserSchema } from '../../shared/imports.ts';
import { ADMIN_BODY_MAX_BYTES, IMPORT_MAX_RECORDS } from '../../shared/limits.ts';
import { parse } from './args.ts';
import { csvLine } from './csv.ts';
import { Progress } from './progress.ts';
import { csvRecords, formatOf, jsonlRecords, type FileRecord } from './records.ts';
import { postChunk, type Detail } from './send.ts';

const USAGE = 'usage: parley import users|accounts FILE --url URL --key ADMIN_KEY [--delimiter ;]\n';

const KINDS = {
  users: { route: '/api/v2/admin/external_users/import', envelope: 'users', schema: importUserSchema as z.ZodType },
  accounts: {
    route: '/api/v2/admin/external_accounts/import',
    envelope: 'accounts',
    schema: importAccountSchema as z.ZodType,
  },
} as const;

/** Chunks stay well under the collector's body limit even with wide records. */
const CHUNK_MAX_BYTES = Math.floor(ADMIN_BODY_MAX_BYTES * 0.75);

interface Failure {
  number: number;
  message: string;
  code: string;
  status: number | '';
}
interface Pending {
  number: number;
  raw: Record<string, unknown>;
}

class FatalError extends Error {}

/** `field: message; field: message` for one record. */
function describe(details: { field: string; message: string }[]): string {
  return details.map((d) => `${d.field}: ${d.message}`).join('; ');
}

function delimiterOf(value: string | undefined): string {
  if (value === undefined) return ',';
  if (value === '\\t' || value === 'tab') return '\t';
  if (value.length !== 1) throw new Error('--delimiter must be one character (or "tab")');
  return value;
}

/** Everything one run keeps track of; the sending loop lives here. */
class ImportRun {
  imported = 0;
  failed = 0;
  warnings = 0;
  private chunk: Pending[] = [];
  private chunkBytes = 0;
  private failures: Failure[] = [];

  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly kind: (typeof KINDS)[keyof typeof KINDS],
    private readonly errors: WriteStream,
  ) {}

  fail(f: Failure) {
    this.failures.push(f);
    this.failed++;
  }

  async add(rec: FileRecord) {
    if (rec.error !== undefined)
      return this.fail({ number: rec.number, message: rec.error, code: 'unreadable_record', status: '' });
    const parsed = this.kind.schema.safeParse(rec.record);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => ({
        field: i.path.map(String).join('.') || '(record)',
        message: i.message,
      }));
      return this.fail({ number: rec.number, message: describe(details), code: 'invalid_record', status: '' });
    }
    const bytes = Buffer.byteLength(JSON.stringify(rec.record));
    if (this.chunk.length > 0 && this.chunkBytes + bytes > CHUNK_MAX_BYTES) await this.flush();
    this.chunk.push({ number: rec.number, raw: rec.record! });
    this.chunkBytes += bytes;
    if (this.chunk.length >= IMPORT_MAX_RECORDS) await this.flush();
  }

  /** Sends the chunk; on 422 drops the records named and resends the rest. */
  async flush() {
    let batch = this.chunk;
    this.chunk = [];
    this.chunkBytes = 0;
    for (let round = 0; batch.length > 0 && round < 3; round++) {
      const out = await postChunk(this.url + this.kind.route, this.key, {
        [this.kind.envelope]: batch.map((p) => p.raw),
      });
      if (out.kind === 'fatal') throw new FatalError(out.message);
      if (out.kind === 'ok') {
        this.imported += batch.length;
        this.warnings += out.body.warnings?.length ?? 0;
        batch = [];
      } else if (out.kind === 'refused') {
        for (const p of batch)
          this.fail({ number: p.number, message: out.message, code: out.code, status: out.status });
        batch = [];
      } else {
        const byIndex = new Map<number, Detail[]>();
        for (const d of out.details)
          if (d.index !== undefined && batch[d.index]) byIndex.set(d.index, [...(byIndex.get(d.index) ?? []), d]);
        if (byIndex.size === 0) break;
        for (const [i, details] of byIndex)
          this.fail({
            number: batch[i].number,
            message: describe(details),
            code: 'invalid_record',
            status: out.status,
          });
        batch = batch.filter((_, i) => !byIndex.has(i));
      }
    }
    for (const p of batch)
      this.fail({
        number: p.number,
        message: 'the collector refused the chunk without naming records',
        code: 'invalid_request',
        status: 422,
      });
    this.writeFailures();
  }

  /** Failures so far, in record order: every buffered one precedes any record still to come. */
  writeFailures() {
    this.failures.sort((a, b) => a.number - b.number);
    for (const f of this.failures) this.errors.write(csvLine([f.number, f.message, f.code, f.status]));
    this.failures = [];
  }
}

export async function run(args: string[]): Promise<number> {
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parse(args, { url: {}, key: {}, delimiter: {} }));
  } catch (e) {
    process.stderr.write(`parley import: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [kindName, file] = positionals;
  const url = values.url as string | undefined;
  const key = values.key as string | undefined;
  if ((kindName !== 'users' && kindName !== 'accounts') || !file || !url || !key || positionals.length > 2) {
    process.stderr.write(USAGE);
    return 2;
  }
  const format = formatOf(file);
  if (!format) throw new Error(`${file}: the file must end in .csv or .jsonl`);
  if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`${file}: no such file`);
  const delimiter = delimiterOf(values.delimiter as string | undefined);

  const errorsFile = `${file}.errors.csv`;
  const errors = createWriteStream(errorsFile);
  errors.write('record_number,message,error_code,status_code\n');
  const job = new ImportRun(url.replace(/\/+$/, ''), key, KINDS[kindName], errors);
  const progress = new Progress(process.stderr, statSync(file).size);
  let fatal: string | null = null;
  try {
    const records = format === 'csv' ? csvRecords(file, delimiter) : jsonlRecords(file);
    for await (const rec of records) {
      await job.add(rec);
      progress.update({ bytes: rec.bytes, imported: job.imported, failed: job.failed });
    }
    await job.flush();
  } catch (e) {
    fatal = (e as Error).message;
    job.writeFailures();
  }
  await new Promise<void>((resolve, reject) => errors.end((err?: Error | null) => (err ? reject(err) : resolve())));
  progress.done({ bytes: 0, imported: job.imported, failed: job.failed });
  if (job.warnings > 0)
    process.stderr.write(
      `parley import: ${job.warnings} custom field values did not fit their definitions and were not stored\n`,
    );
  if (fatal) process.stderr.write(`parley import: stopped: ${fatal}\n`);
  process.stdout.write(JSON.stringify({ imported: job.imported, failed: job.failed, errors_file: errorsFile }) + '\n');
  return fatal ? 1 : 0;
}
