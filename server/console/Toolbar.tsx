import { useState } from 'preact/hooks';
import { explain, type Download } from './api.ts';

/**
 * The controls above a list: a set of mutually exclusive choices (rank by, sort by), a
 * search box and Export CSV. Stateless: the current value comes in, the new one goes out through a callback.
 */

export interface Option<T extends string> {
  value: T;
  label: string;
}

export function Choice<T extends string>(p: {
  label: string;
  options: Option<T>[];
  value: T;
  onChange: (v: T) => void;
}) {
  return (
    <div class="choice" role="group" aria-label={p.label}>
      <span aria-hidden="true">{p.label}</span>
      {p.options.map((o) => (
        <button type="button" key={o.value} aria-pressed={p.value === o.value} onClick={() => p.onChange(o.value)}>
          {o.label}
        </button>
      ))}
    </div>
  );
}

/**
 * Searches on submit (Enter or the button) rather than per keystroke: each search is a request
 * to the collector. The input is uncontrolled; the submitted text is the state that matters.
 */
export function SearchBox(p: { label: string; value: string; onSearch: (q: string) => void }) {
  return (
    <form
      class="search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        p.onSearch(String(new FormData(e.currentTarget).get('q') ?? '').trim());
      }}
    >
      <input type="search" name="q" aria-label={p.label} placeholder={p.label} defaultValue={p.value} />
      <button type="submit">Search</button>
      {p.value && (
        <button
          type="button"
          onClick={(e) => {
            const input = e.currentTarget.form?.elements.namedItem('q') as HTMLInputElement | null;
            if (input) input.value = '';
            p.onSearch('');
          }}
        >
          Clear
        </button>
      )}
    </form>
  );
}

/**
 * Export CSV: the whole list under the same filters (docs/API.md#export). A plain link cannot
 * carry the admin key, so the export is fetched with it and the Blob saved through a temporary
 * object URL.
 */
export function ExportButton(p: { download: Download; path: string; file: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const save = async () => {
    setBusy(true);
    setError('');
    try {
      const blob = await p.download(p.path);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = p.file;
      document.body.append(a);
      a.click();
      a.remove();
      // Revoked on the next turn: the click has handed the Blob to the download by then.
      setTimeout(() => URL.revokeObjectURL(url), 0);
    } catch (e) {
      setError(explain(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="export">
      <button type="button" disabled={busy} onClick={() => void save()}>
        {busy ? 'Exporting…' : 'Export CSV'}
      </button>
      {error && (
        <span class="field-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
