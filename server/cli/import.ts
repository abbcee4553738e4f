/**
 * `parley import users|accounts FILE --url URL --key ADMIN_KEY [--delimiter ;] [--map 'Header=field' ...]
 * [--no-header] [--dry-run]` (README.md#operator-cli): an HTTP client of a running collector.
 * It streams the file (CSV columns become fields as cli/columns.ts says), and sends its records
 * through cli/import-run.ts. Each failed record becomes a line of FILE.errors.csv
 * (`record_number,message,error_code,status_code`, numbers counting data records from 1); the
 * last line on stdout is `{"imported","failed","errors_file"}`, or with `--dry-run`, which
 * writes nothing to the collector, `{"dry_run":true,"valid","failed","errors_file",` and what
 * would be created, updated and left unchanged `}`.
 *
 * Exit code 0 when the import ran, even with failed records; 1 when it could not run (bad key,
 * unreachable collector, unreadable file, a --map that fits no column); 2 for a usage error.
 */
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { parse } from './args.ts';
import { parseMaps, UsageError } from './columns.ts';
import { ImportRun, KINDS } from './import-run.ts';
import { Progress } from './progress.ts';
import { csvRecords, formatOf, jsonlRecords } from './records.ts';

const USAGE =
  'usage: parley import users|accounts FILE --url URL --key ADMIN_KEY [--delimiter ;] ' +
  "[--map 'Header=field' ...] [--no-header] [--dry-run]\n";

function delimiterOf(value: string | undefined): string {
  if (value === undefined) return ',';
  if (value === '\\t' || value === 'tab') return '\t';
  if (value.length !== 1) throw new UsageError('--delimiter must be one character (or "tab")');
  return value;
}

/** `would create 3 users, 2 external_users; update 1 users` (a dry run's answer, for people). */
function wouldDo(tallies: ImportRun['tallies']): string {
  const part = (verb: 'created' | 'updated') =>
    Object.entries(tallies)
      .map(([name, t]) => `${t[verb]} ${name}`)
      .join(', ');
  return `would create ${part('created')}; update ${part('updated')}`;
}

export async function run(args: string[]): Promise<number> {
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parse(args, {
      url: {},
      key: {},
      delimiter: {},
      map: { multiple: true },
      'no-header': { boolean: true },
      'dry-run': { boolean: true },
    }));
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
  const header = !values['no-header'];
  const dryRun = Boolean(values['dry-run']);
  let layout;
  try {
    const specs = (values.map as string[] | undefined) ?? [];
    if (format !== 'csv' && (specs.length > 0 || !header))
      throw new UsageError('--map and --no-header apply to CSV files only');
    layout = { delimiter: delimiterOf(values.delimiter as string | undefined), header, map: parseMaps(specs, !header) };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`parley import: ${e.message}\n${USAGE}`);
    return 2;
  }
  if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`${file}: no such file`);

  const errorsFile = `${file}.errors.csv`;
  const errors = createWriteStream(errorsFile);
  errors.write('record_number,message,error_code,status_code\n');
  const job = new ImportRun(url.replace(/\/+$/, ''), key, KINDS[kindName], errors, dryRun);
  const progress = new Progress(process.stderr, statSync(file).size, Date.now, 2000, dryRun ? 'valid' : 'imported');
  let fatal: string | null = null;
  try {
    const records = format === 'csv' ? csvRecords(file, layout) : jsonlRecords(file);
    for await (const rec of records) {
      await job.add(rec);
      progress.update({ bytes: rec.bytes, imported: job.imported, failed: job.failed });
    }
    await job.flush();
  } catch (e) {
    // The collector refused the key, could not be reached, or the file or a --map did not fit.
    fatal = (e as Error).message;
    job.writeFailures();
  }
  await new Promise<void>((resolve, reject) => errors.end((err?: Error | null) => (err ? reject(err) : resolve())));
  progress.done({ bytes: 0, imported: job.imported, failed: job.failed });
  if (job.warnings > 0)
    process.stderr.write(
      `parley import: ${job.warnings} custom field values did not fit their definitions and ${dryRun ? 'would not be' : 'were not'} stored\n`,
    );
  if (fatal) process.stderr.write(`parley import: stopped: ${fatal}\n`);
  if (dryRun) {
    process.stderr.write(`parley import: dry run, nothing was written: ${wouldDo(job.tallies)}\n`);
    process.stdout.write(
      JSON.stringify({
        dry_run: true,
        valid: job.imported,
        failed: job.failed,
        errors_file: errorsFile,
        ...job.tallies,
      }) + '\n',
    );
  } else {
    process.stdout.write(
      JSON.stringify({ imported: job.imported, failed: job.failed, errors_file: errorsFile }) + '\n',
    );
  }
  return fatal ? 1 : 0;
}
