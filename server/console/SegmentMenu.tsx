/**
 * Saved segments (docs/API.md#saved-segments) in a menu: pick one (the list then reads
 * `segment=<name>`, and the URL names it, so it can be shared), save the current filters under
 * a name, delete one. Saving and deleting are admin writes the collector answers once durable;
 * their errors show here, naming what was wrong.
 */
import { useState } from 'preact/hooks';
import { explain } from './api.ts';
import type { SegFilters } from './segments.ts';

export interface SavedSegment {
  name: string;
  filters: SegFilters;
}

interface Props {
  /** undefined while loading. */
  segments: SavedSegment[] | undefined;
  /** Why the saved segments could not be listed, if they could not. */
  loadError: string;
  /** The segment the view reads now, if any. */
  current: string | undefined;
  /** Whether there is anything to save. */
  canSave: boolean;
  onPick: (name: string) => void;
  onSave: (name: string) => Promise<void>;
  onDelete: (name: string) => Promise<void>;
}

export function SegmentMenu({ segments, loadError, current, canSave, onPick, onSave, onDelete }: Props) {
  const [name, setName] = useState(current ?? '');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const run = async (what: () => Promise<void>, done: string) => {
    setBusy(true);
    try {
      await what();
      setMessage({ error: false, text: done });
    } catch (e) {
      setMessage({ error: true, text: explain(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <details class="segments">
      <summary>Segments{current ? `: ${current}` : ''}</summary>
      <div class="segments-menu">
        {loadError ? (
          <p role="alert" class="field-error">
            Could not list saved segments: {loadError}
          </p>
        ) : segments === undefined ? (
          <p class="secondary">Loading saved segments…</p>
        ) : segments.length === 0 ? (
          <p class="secondary">No saved segments yet. Add filters, then save them here under a name.</p>
        ) : (
          <ul aria-label="Saved segments">
            {segments.map((s) => (
              <li key={s.name}>
                <button
                  type="button"
                  class="link"
                  aria-current={s.name === current ? 'true' : undefined}
                  onClick={() => onPick(s.name)}
                >
                  {s.name}
                </button>
                <button
                  type="button"
                  aria-label={`Delete segment ${s.name}`}
                  disabled={busy}
                  onClick={() => void run(() => onDelete(s.name), `Deleted ${s.name}.`)}
                >
                  Delete
                </button>
              </li>
            ))}
          </ul>
        )}
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const n = name.trim();
            if (n) void run(() => onSave(n), `Saved ${n}. Its link is in the address bar.`);
          }}
        >
          <input
            aria-label="Segment name"
            placeholder="e.g. eu-enterprise"
            pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
            title="1-64 letters, digits, _ . -, starting with a letter or digit"
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
          <button type="submit" disabled={busy || !canSave}>
            Save current filters
          </button>
        </form>
        {message && (
          <p role={message.error ? 'alert' : 'status'} class={message.error ? 'field-error' : 'secondary'}>
            {message.text}
          </p>
        )}
      </div>
    </details>
  );
}
