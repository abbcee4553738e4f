/**
 * The states a list can be in besides "here are the rows": still loading, nothing yet, or
 * failed. Each says what it means and, for empty lists, what to do to fill them.
 */
import type { ComponentChildren } from 'preact';
import { explain } from './api.ts';

export function Loading({ what }: { what: string }) {
  return (
    <div class="state loading" role="status">
      <span class="spinner" aria-hidden="true" />
      Loading {what}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <div class="state empty">
      <p class="state-title">{title}</p>
      <p>{children}</p>
    </div>
  );
}

export function Failed({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div class="state error" role="alert">
      <p class="state-title">Could not load this list</p>
      <p>{explain(error)}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}
