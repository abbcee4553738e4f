/**
 * The segment filter bar above every list: choose a field, an operator and a value, Add; each
 * active filter is a chip that removes it. Custom fields are offered from their definitions, a
 * closed set of values (a select field, a boolean, kinds) as a menu. Stateless about the filters:
 * they live in the URL hash (routes.ts) and come in as props; only the half-typed choice is kept
 * here. A filter this list does not take (a feedback field on Accounts) stays as a dimmed chip,
 * kept for the lists that take it.
 */
import { useState } from 'preact/hooks';
import type { TabId } from './routes.ts';
import {
  addFilter,
  describeFilter,
  fieldsFor,
  OP_LABEL,
  removeFilter,
  takes,
  toParamValue,
  type CustomFieldDef,
  type SegFilters,
} from './segments.ts';

interface Props {
  tab: TabId;
  filters: SegFilters;
  defs: CustomFieldDef[];
  onChange: (f: SegFilters) => void;
}

const HINT: Record<string, string> = { money: 'Dollars, e.g. 500', date: 'YYYY-MM-DD', score: '0-10', text: 'Value' };

export function FilterBar({ tab, filters, defs, onChange }: Props) {
  const fields = fieldsFor(tab, defs);
  // Chosen by label, not position: the custom fields arrive later and shift the positions.
  const [fieldLabel, setFieldLabel] = useState(fields[0].label);
  const [opAt, setOpAt] = useState(0);
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const field = fields.find((f) => f.label === fieldLabel) ?? fields[0];
  const op = field.ops[Math.min(opAt, field.ops.length - 1)];
  const chips = Object.entries(filters).flatMap(([param, values]) => values.map((v) => ({ param, v })));

  const add = (e: Event) => {
    e.preventDefault();
    const v = toParamValue(field.unit, value || (field.options?.[0] ?? ''));
    if (v === null) {
      setError(`${field.label}: ${HINT[field.unit]}`);
      return;
    }
    setError('');
    setValue('');
    onChange(addFilter(filters, op.param, v));
  };

  return (
    <div class="filters">
      <form class="filter-add" aria-label="Add a filter" onSubmit={add}>
        <select
          aria-label="Filter field"
          value={field.label}
          onChange={(e) => {
            setFieldLabel((e.target as HTMLSelectElement).value);
            setOpAt(0);
            setValue('');
          }}
        >
          {fields.map((f) => (
            <option key={f.label} value={f.label}>
              {f.label}
            </option>
          ))}
        </select>
        <select
          aria-label="Filter operator"
          value={String(opAt)}
          onChange={(e) => setOpAt(Number((e.target as HTMLSelectElement).value))}
        >
          {field.ops.map((o, n) => (
            <option key={o.param} value={String(n)}>
              {OP_LABEL[o.op]}
            </option>
          ))}
        </select>
        {field.options ? (
          <select
            aria-label="Filter value"
            value={value || field.options[0]}
            onChange={(e) => setValue((e.target as HTMLSelectElement).value)}
          >
            {field.options.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        ) : (
          <input
            aria-label="Filter value"
            placeholder={HINT[field.unit]}
            value={value}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          />
        )}
        <button type="submit">Add filter</button>
        {error && (
          <span class="field-error" role="alert">
            {error}
          </span>
        )}
      </form>
      {chips.length > 0 && (
        <ul class="chips" aria-label="Active filters">
          {chips.map(({ param, v }) => {
            const label = describeFilter(param, v, defs);
            const applies = takes(tab, param);
            return (
              <li key={`${param}=${v}`} class={applies ? 'chip' : 'chip off'}>
                {label}
                {!applies && <span class="secondary"> (not for this list)</span>}
                <button
                  type="button"
                  aria-label={`Remove ${label}`}
                  onClick={() => onChange(removeFilter(filters, param, v))}
                >
                  ×
                </button>
              </li>
            );
          })}
          <li>
            <button type="button" class="link" onClick={() => onChange({})}>
              Clear all
            </button>
          </li>
        </ul>
      )}
    </div>
  );
}
