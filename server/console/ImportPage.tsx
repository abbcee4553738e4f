/**
 * The Import page (`#import`): choose a `.csv` or `.jsonl` file of people or accounts, the
 * delimiter and whether the first row is a header; match each column to a field (matched
 * automatically from the headers, defined custom fields offered by name) or skip it;
 * **Validate** runs the whole file as a dry run and lists the rows that would fail;
 * **Import** sends it in chunks with a progress bar and offers the errors file. An optional tag
 * is added to everyone imported. The file is read in slices and the page stays responsive
 * (import/read.ts); the sending is import/run.ts, the matching import/fields.ts.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { explain, type Get, type Post } from './api.ts';
import { number } from './format.ts';
import { autoMatch, fieldChoices, mappingProblems, pathsOf, type ImportKind } from './import/fields.ts';
import { formatOf, previewCsv, readRecords, type FileFormat } from './import/read.ts';
import { ImportRun, type Failure, type Progress, type Tallies } from './import/run.ts';
import type { CustomField } from './types.ts';

interface Props {
  get: Get;
  post: Post;
  version: number;
  onError: (e: unknown) => void;
  onChanged: () => void;
}

const DELIMITERS = [
  { value: ',', label: 'Comma ,' },
  { value: ';', label: 'Semicolon ;' },
  { value: '\t', label: 'Tab' },
  { value: '|', label: 'Pipe |' },
];
/** Failing rows listed on the page; all of them are in the errors file. */
const SHOWN_FAILURES = 100;

interface Outcome {
  dryRun: boolean;
  done: number;
  failed: number;
  warnings: number;
  tallies: Tallies;
  failures: Failure[];
  errorsUrl: string | null;
}

export function ImportPage({ get, post, onError, onChanged }: Props) {
  const [kind, setKind] = useState<ImportKind>('users');
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState<FileFormat | null>(null);
  const [delimiter, setDelimiter] = useState(',');
  const [header, setHeader] = useState(true);
  const [tag, setTag] = useState('');
  const [rows, setRows] = useState<string[][]>([]);
  const [mapping, setMapping] = useState<string[]>([]);
  const [custom, setCustom] = useState<CustomField[]>([]);
  const [problem, setProblem] = useState('');
  const [running, setRunning] = useState<null | { dryRun: boolean; progress: Progress; fraction: number }>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  useEffect(() => {
    get<{ custom_fields: CustomField[] }>('/custom_fields').then(
      (r) => setCustom(r.custom_fields),
      (e) => onError(e),
    );
  }, []);

  const choices = useMemo(() => fieldChoices(kind, custom), [kind, custom]);
  const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
  const headers = header && rows.length ? rows[0] : null;
  const samples = header ? rows.slice(1) : rows;

  // A new file, delimiter or header choice: read the first rows again and match the columns.
  useEffect(() => {
    if (!file || format !== 'csv') return setRows([]);
    let live = true;
    previewCsv(file, delimiter).then(
      (r) => live && setRows(r),
      (e) => live && setProblem(String(e instanceof Error ? e.message : e)),
    );
    return () => {
      live = false;
    };
  }, [file, format, delimiter]);
  useEffect(() => {
    const matched = autoMatch(headers, kind, choices);
    setMapping(Array.from({ length: width }, (_, i) => matched[i] ?? ''));
    setOutcome(null);
  }, [rows, header, kind, choices]);

  const problems = format === 'csv' ? mappingProblems(mapping, kind) : [];
  const ready = !!file && !!format && problems.length === 0 && !running;

  const choose = (f: File | undefined) => {
    setOutcome(null);
    setProblem('');
    setFile(f ?? null);
    const fmt = f ? formatOf(f.name) : null;
    setFormat(fmt);
    if (f && !fmt) setProblem('Choose a .csv or .jsonl file.');
  };

  const run = async (dryRun: boolean) => {
    if (!file || !format) return;
    if (outcome?.errorsUrl) URL.revokeObjectURL(outcome.errorsUrl);
    setOutcome(null);
    setProblem('');
    const update = (progress: Progress, fraction: number) => setRunning({ dryRun, progress, fraction });
    let fraction = 0;
    const r = new ImportRun({ kind, post, dryRun, tag, onProgress: (p) => update(p, fraction) });
    update(r.progress, 0);
    try {
      const layout = { delimiter, header };
      for await (const batch of readRecords(file, format, { layout, paths: pathsOf(mapping) })) {
        fraction = file.size ? batch.bytes / file.size : 1;
        await r.add(batch.records);
      }
      await r.finish();
      const errorsUrl = r.failures.length ? URL.createObjectURL(new Blob([r.errorsCsv()], { type: 'text/csv' })) : null;
      setOutcome({
        dryRun,
        done: r.progress.done,
        failed: r.progress.failed,
        warnings: r.warnings,
        tallies: r.tallies,
        failures: r.failures.slice(0, SHOWN_FAILURES),
        errorsUrl,
      });
      if (!dryRun) onChanged();
    } catch (e) {
      onError(e);
      setProblem(`${dryRun ? 'Validation' : 'The import'} stopped: ${explain(e)}`);
      if (!dryRun && r.progress.done) onChanged();
    } finally {
      setRunning(null);
    }
  };

  return (
    <section class="import" aria-label="Import">
      <h2>Import</h2>
      <div class="panel">
        <div class="form-grid">
          <fieldset class="choice" aria-label="What the file holds">
            {(['users', 'accounts'] as const).map((k) => (
              <label key={k}>
                <input type="radio" name="kind" checked={kind === k} onChange={() => setKind(k)} />{' '}
                {k === 'users' ? 'People' : 'Accounts'}
              </label>
            ))}
          </fieldset>
          <label>
            File (.csv or .jsonl)
            <input
              type="file"
              accept=".csv,.jsonl,.ndjson,text/csv"
              onChange={(e) => choose((e.target as HTMLInputElement).files?.[0])}
            />
          </label>
          {format === 'csv' && (
            <>
              <label>
                Delimiter
                <select value={delimiter} onChange={(e) => setDelimiter((e.target as HTMLSelectElement).value)}>
                  {DELIMITERS.map((d) => (
                    <option key={d.value} value={d.value}>
                      {d.label}
                    </option>
                  ))}
                </select>
              </label>
              <label class="inline">
                <input
                  type="checkbox"
                  checked={header}
                  onChange={(e) => setHeader((e.target as HTMLInputElement).checked)}
                />{' '}
                First row is a header
              </label>
            </>
          )}
          {kind === 'users' && (
            <label>
              Tag everyone imported (optional)
              <input
                type="text"
                value={tag}
                placeholder="e.g. crm-2026"
                onInput={(e) => setTag((e.target as HTMLInputElement).value)}
              />
            </label>
          )}
        </div>
        {!file && <p class="secondary">Choose a file to start. Nothing is written until you press Import.</p>}
        {format === 'jsonl' && (
          <p class="secondary">
            Each line is one record as JSON, with the fields of the API (<code>external_id</code>, <code>email</code>,{' '}
            <code>account</code>, <code>cf_*</code>…); there are no columns to match.
          </p>
        )}
      </div>

      {format === 'csv' && width > 0 && (
        <div class="table-wrap">
          <table class="mapping" aria-label="Columns">
            <thead>
              <tr>
                <th class="num">#</th>
                <th>Column</th>
                <th>First values</th>
                <th>Fills the field</th>
              </tr>
            </thead>
            <tbody>
              {Array.from({ length: width }, (_, i) => {
                const name = headers?.[i] ?? `Column ${i + 1}`;
                return (
                  <tr key={i}>
                    <td class="num">{i + 1}</td>
                    <td class="primary">{name}</td>
                    <td class="sample">
                      {samples
                        .map((r) => r[i] ?? '')
                        .filter(Boolean)
                        .slice(0, 3)
                        .join(' · ') || '—'}
                    </td>
                    <td>
                      <select
                        aria-label={`Field for column ${i + 1}`}
                        value={mapping[i] ?? ''}
                        onChange={(e) => {
                          const v = (e.target as HTMLSelectElement).value;
                          setMapping((m) => m.map((f, j) => (j === i ? v : f)));
                          setOutcome(null);
                        }}
                      >
                        <option value="">Skip this column</option>
                        {choices.map((c) => (
                          <option key={c.path} value={c.path}>
                            {c.label} — {c.path}
                          </option>
                        ))}
                        {mapping[i] && !choices.some((c) => c.path === mapping[i]) && (
                          <option value={mapping[i]}>{mapping[i]}</option>
                        )}
                      </select>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {problems.length > 0 && file && (
        <ul class="field-error mapping-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}

      <div class="form-actions">
        <button type="button" disabled={!ready} onClick={() => void run(true)}>
          Validate
        </button>
        <button type="button" class="primary" disabled={!ready} onClick={() => void run(false)}>
          Import
        </button>
        {problem && (
          <span role="alert" class="field-error">
            {problem}
          </span>
        )}
      </div>

      {running && (
        <div class="panel" role="status" aria-live="polite">
          <p>
            {running.dryRun ? 'Validating' : 'Importing'}… {number(running.progress.read)} rows read,{' '}
            {number(running.progress.done)} {running.dryRun ? 'valid' : 'imported'}, {number(running.progress.failed)}{' '}
            failed
          </p>
          <progress class="progress" aria-label="Progress" max={1} value={running.fraction} />
        </div>
      )}

      {outcome && <OutcomePanel o={outcome} fileName={file?.name ?? 'import'} />}
    </section>
  );
}

const TALLY_NAMES: Record<string, string> = {
  external_users: 'External users',
  users: 'Users',
  external_accounts: 'Accounts',
};

function OutcomePanel({ o, fileName }: { o: Outcome; fileName: string }) {
  return (
    <div class="panel outcome" aria-label={o.dryRun ? 'Validation result' : 'Import result'}>
      <p class="state-title" role="status">
        {o.dryRun
          ? `Validated: ${number(o.done)} rows valid, ${number(o.failed)} would fail. Nothing was written.`
          : `Imported ${number(o.done)} rows; ${number(o.failed)} failed.`}
        {o.warnings > 0 &&
          ` ${number(o.warnings)} custom field values did not fit their definitions and would be dropped.`}
      </p>
      {o.dryRun && (
        <div class="counts">
          {Object.entries(o.tallies).map(([name, t]) => (
            <span key={name} data-tally={name}>
              <strong>{TALLY_NAMES[name] ?? name}:</strong> {number(t.created)} to create, {number(t.updated)} to
              update, {number(t.unchanged)} unchanged
            </span>
          ))}
        </div>
      )}
      {o.failures.length > 0 && (
        <>
          <div class="table-wrap">
            <table class="failures" aria-label="Rows that fail">
              <thead>
                <tr>
                  <th class="num">Row</th>
                  <th>What is wrong</th>
                </tr>
              </thead>
              <tbody>
                {o.failures.map((f) => (
                  <tr key={f.number}>
                    <td class="num">{f.number}</td>
                    <td>{f.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {o.failed > o.failures.length && (
            <p class="secondary">The first {o.failures.length} are listed; the errors file has all of them.</p>
          )}
        </>
      )}
      {o.errorsUrl && (
        <p>
          <a class="button" href={o.errorsUrl} download={`${fileName.replace(/\.[^.]+$/, '')}.errors.csv`}>
            Download the errors file
          </a>
        </p>
      )}
    </div>
  );
}
