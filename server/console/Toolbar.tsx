/**
 * The controls above a list: a set of mutually exclusive choices (rank by, sort by) and a
 * search box. Stateless: the current value comes in, the new one goes out through a callback.
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
