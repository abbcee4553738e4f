/**
 * The console's side of the segment filter language (docs/API.md#segments): the filters a list
 * is cut by, as query parameter → values, the same shape a saved segment stores. Here: which
 * fields the filter bar offers (custom fields from their definitions), which parameters each
 * list takes, what the bar's "field, operator, value" makes of a typed value, what a chip says,
 * and the filters as the query part of the URL hash. Pure: no DOM, no fetch, no zod.
 */
import type { SegFilters, TabId } from './routes.ts';

export { filtersQuery, parseFilters, type SegFilters } from './routes.ts';

export type Op = 'is' | 'gte' | 'lte' | 'after' | 'before';
export const OP_LABEL: Record<Op, string> = { is: 'is', gte: '≥', lte: '≤', after: 'after', before: 'before' };

/** How a value is typed and shown: money is typed in dollars and sent in cents. */
export type Unit = 'text' | 'money' | 'date' | 'score';

export interface FieldDef {
  /** What the bar's field menu says. */
  label: string;
  /** The operators it offers and the parameter each sends. */
  ops: { op: Op; param: string }[];
  unit: Unit;
  /** A closed set of values (a select custom field, a boolean, feedback kinds) offered as a menu. */
  options?: string[];
}

/** A custom field definition as `GET /custom_fields` answers it (docs/API.md#custom-fields). */
export interface CustomFieldDef {
  key: string;
  object: 'user' | 'account';
  type: string;
  options?: string[];
}

/** Which group a parameter belongs to; each list takes some groups (docs/API.md#segments). */
type Scope = 'user' | 'account' | 'feedback';
const TAB_SCOPES: Record<TabId, Scope[]> = {
  feedback: ['user', 'account', 'feedback'],
  ideas: ['user', 'account', 'feedback'],
  users: ['user', 'account'],
  accounts: ['account'],
};

export function scopeOf(param: string): Scope | 'segment' {
  if (param === 'segment') return 'segment';
  if (param.startsWith('account.')) return 'account';
  if (['kind', 'source', 'as'].includes(param) || /^(created_(after|before)|score_(gte|lte))$/.test(param))
    return 'feedback';
  return 'user';
}

/** Whether a list takes a parameter; a saved segment is sent to every list (the collector checks it). */
export const takes = (tab: TabId, param: string) => {
  const s = scopeOf(param);
  return s === 'segment' || TAB_SCOPES[tab].includes(s);
};

const is = (param: string) => [{ op: 'is' as const, param }];
const range = (base: string) => [
  { op: 'gte' as const, param: `${base}_gte` },
  { op: 'lte' as const, param: `${base}_lte` },
];

/** The fields the bar offers on a tab: the fixed ones, then each defined custom field. */
export function fieldsFor(tab: TabId, defs: CustomFieldDef[]): FieldDef[] {
  const custom = (object: 'user' | 'account'): FieldDef[] =>
    defs
      .filter((d) => d.object === object)
      .map((d) => ({
        label: `${object === 'account' ? 'Account ' : ''}${d.key.replace(/^cf_/, '')}`,
        ops: is(`${object === 'account' ? 'account.' : ''}${d.key.startsWith('cf_') ? d.key : `cf_${d.key}`}`),
        unit: 'text' as const,
        options: d.type === 'select' ? d.options : d.type === 'boolean' ? ['true', 'false'] : undefined,
      }));
  const all: Record<Scope, FieldDef[]> = {
    user: [
      { label: 'Person type', ops: is('type'), unit: 'text' },
      { label: 'Tag', ops: is('tag'), unit: 'text' },
      { label: 'App version', ops: is('app_version'), unit: 'text' },
      { label: 'Country', ops: is('country'), unit: 'text' },
      ...custom('user'),
    ],
    account: [
      { label: 'Account plan', ops: is('account.plan'), unit: 'text' },
      { label: 'Account MRR', ops: range('account.mrr_cents'), unit: 'money' },
      { label: 'Account LTV', ops: range('account.ltv_cents'), unit: 'money' },
      ...custom('account'),
    ],
    feedback: [
      { label: 'Kind', ops: is('kind'), unit: 'text', options: ['idea', 'support', 'comment', 'nps'] },
      { label: 'Source', ops: is('source'), unit: 'text' },
      {
        label: 'Given',
        ops: [
          { op: 'after', param: 'created_after' },
          { op: 'before', param: 'created_before' },
        ],
        unit: 'date',
      },
      { label: 'NPS score', ops: range('score'), unit: 'score', options: Array.from({ length: 11 }, (_, n) => `${n}`) },
      // Plan and MRR as recorded with the feedback, or as they are now (docs/API.md#segments).
      { label: 'Account read as', ops: is('as'), unit: 'text', options: ['then', 'now'] },
    ],
  };
  return TAB_SCOPES[tab].flatMap((s) => all[s]);
}

/** A range end, a date or `as` is one value (the collector refuses a repeated one); the rest add up. */
const single = (param: string) => param === 'as' || /_(gte|lte|after|before)$/.test(param);

/**
 * What a typed value becomes as a parameter value, or null when it cannot be one: money typed
 * in dollars ("1,200.50") is sent in whole cents, dates as typed (ISO-8601), text trimmed.
 */
export function toParamValue(unit: Unit, input: string): string | null {
  const v = input.trim();
  if (!v) return null;
  if (unit === 'money') {
    const n = Number(v.replace(/[$,\s]/g, ''));
    return Number.isFinite(n) && n >= 0 ? String(Math.round(n * 100)) : null;
  }
  if (unit === 'score') return /^(10|[0-9])$/.test(v) ? v : null;
  if (unit === 'date') return /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v)) ? v : null;
  return v;
}

/** The filters with one more value: a range end or date replaces, anything else is one more "any of". */
export function addFilter(f: SegFilters, param: string, value: string): SegFilters {
  const had = f[param] ?? [];
  if (had.includes(value)) return f;
  return { ...f, [param]: single(param) ? [value] : [...had, value] };
}

/** The filters without one value (and without the parameter once it has none). */
export function removeFilter(f: SegFilters, param: string, value: string): SegFilters {
  const { [param]: had = [], ...rest } = f;
  const left = had.filter((v) => v !== value);
  return left.length ? { ...rest, [param]: left } : rest;
}

/** The query string a list is asked with: only the parameters it takes, in a stable order. */
export function queryFor(tab: TabId, f: SegFilters): string {
  const q = new URLSearchParams();
  for (const param of Object.keys(f).sort()) if (takes(tab, param)) for (const v of f[param]) q.append(param, v);
  return q.toString();
}

/**
 * What Save stores: the saved segment's own filters (when one is picked) with the explicit
 * ones over them, the way a list reads `segment=` plus parameters (docs/API.md#segments).
 */
export function filtersToSave(f: SegFilters, saved: SegFilters | undefined): SegFilters {
  const { segment: _segment, ...explicit } = f;
  return { ...(saved ?? {}), ...explicit };
}

const money = (cents: string) => `$${(Number(cents) / 100).toLocaleString('en-US', { maximumFractionDigits: 2 })}`;

/** What a chip says for one value: "Account plan is Enterprise", "Account MRR ≥ $500". */
export function describeFilter(param: string, value: string, defs: CustomFieldDef[]): string {
  if (param === 'segment') return `Segment ${value}`;
  if (param === 'as') return value === 'then' ? 'Account as it was then' : 'Account as it is now';
  // The feedback tab offers every field there is.
  for (const field of fieldsFor('feedback', defs)) {
    const op = field.ops.find((o) => o.param === param);
    if (op) return `${field.label} ${OP_LABEL[op.op]} ${field.unit === 'money' ? money(value) : value}`;
  }
  return `${param} = ${value}`;
}
