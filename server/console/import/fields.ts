/**
 * The fields an Import page column can fill (docs/IMPORTS.md#user-record, #account-record), and
 * how a file's headers are matched to them: the field's own name (`account.cf_region`), the
 * same written loosely (`Account Name`, `E-mail`), a few common CRM names (`Customer ID`,
 * `Company`), and the site's defined custom fields by their names (`Customer Type` →
 * `cf_customer_type`). Each field is filled by one column at most; the first column that
 * matches it wins and later ones are skipped. Pure.
 */
import type { CustomField } from '../types.ts';

export type ImportKind = 'users' | 'accounts';

export interface FieldChoice {
  /** The record's field path, dotted (`account.cf_region`). */
  path: string;
  label: string;
}

const ACCOUNT_FIELDS: FieldChoice[] = [
  { path: 'external_id', label: 'Account id' },
  { path: 'name', label: 'Name' },
  { path: 'plan', label: 'Plan' },
  { path: 'monthly_rate', label: 'MRR (decimal)' },
  { path: 'mrr_cents', label: 'MRR (cents)' },
  { path: 'ltv', label: 'LTV (decimal)' },
  { path: 'ltv_cents', label: 'LTV (cents)' },
  { path: 'external_created_at', label: 'Signed up' },
];

const USER_FIELDS: FieldChoice[] = [
  { path: 'external_id', label: 'External id' },
  { path: 'email', label: 'Email' },
  { path: 'name', label: 'Name' },
  { path: 'type', label: 'Type' },
  { path: 'external_created_at', label: 'Signed up' },
  { path: 'tags', label: 'Tags (a|b)' },
  ...ACCOUNT_FIELDS.map((f) => ({ path: `account.${f.path}`, label: `Account: ${f.label}` })),
];

/** Fields a record of this kind must have: a row without them fails validation. */
export const REQUIRED: Record<ImportKind, string[]> = { users: ['external_id', 'email'], accounts: ['external_id'] };

/** Every field a column of this kind of import can fill, defined custom fields included. */
export function fieldChoices(kind: ImportKind, custom: CustomField[]): FieldChoice[] {
  const cf = (object: 'user' | 'account', prefix: string) =>
    custom
      .filter((d) => d.object === object)
      .map((d) => ({
        path: `${prefix}${d.key}`,
        label: `${prefix ? 'Account: ' : ''}${d.key.replace(/^cf_/, '')} (custom)`,
      }));
  return kind === 'users'
    ? [...USER_FIELDS, ...cf('user', ''), ...cf('account', 'account.')]
    : [...ACCOUNT_FIELDS, ...cf('account', '')];
}

/** `E-mail Address ` → `e_mail_address`: how headers and field names are compared. */
export const loose = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '_')
    .replace(/^_+|_+$/g, '');

/** Common header names in CRM and billing exports, loosely written, → the field they mean. */
const SYNONYMS: Record<ImportKind, Record<string, string>> = {
  users: {
    id: 'external_id',
    user_id: 'external_id',
    customer_id: 'external_id',
    contact_id: 'external_id',
    e_mail: 'email',
    email_address: 'email',
    mail: 'email',
    full_name: 'name',
    user_type: 'type',
    role: 'type',
    created_at: 'external_created_at',
    signed_up: 'external_created_at',
    signup_date: 'external_created_at',
    account: 'account.name',
    company: 'account.name',
    company_name: 'account.name',
    account_name: 'account.name',
    account_id: 'account.external_id',
    company_id: 'account.external_id',
    plan: 'account.plan',
    mrr: 'account.monthly_rate',
    monthly_rate: 'account.monthly_rate',
    ltv: 'account.ltv',
  },
  accounts: {
    id: 'external_id',
    account_id: 'external_id',
    company_id: 'external_id',
    company: 'name',
    company_name: 'name',
    account_name: 'name',
    mrr: 'monthly_rate',
    created_at: 'external_created_at',
  },
};

/** The field a header names, or '' when none fits. */
function matchOne(header: string, kind: ImportKind, choices: FieldChoice[]): string {
  const paths = choices.map((c) => c.path);
  const h = header.trim();
  if (paths.includes(h)) return h;
  const l = loose(h);
  const byLoose = paths.find((p) => loose(p) === l);
  if (byLoose) return byLoose;
  const synonym = SYNONYMS[kind][l];
  if (synonym && paths.includes(synonym)) return synonym;
  // A defined custom field by its name, without the cf_ prefix: `Customer Type` → cf_customer_type.
  const custom = paths.find((p) => /(^|\.)cf_/.test(p) && loose(p.replace(/^(account\.)?cf_/, '')) === l);
  if (custom) return custom;
  // Custom fields not defined yet are still stored as given (docs/IMPORTS.md#custom-fields).
  if (/^(account\.)?cf_[a-z0-9_]{1,64}$/.test(h) && (kind === 'users' || !h.startsWith('account.'))) return h;
  return '';
}

/**
 * The field each column fills ('' = skipped), from the header row; without one every column
 * starts skipped and is mapped by hand.
 */
export function autoMatch(headers: string[] | null, kind: ImportKind, choices: FieldChoice[]): string[] {
  if (!headers) return [];
  const used = new Set<string>();
  return headers.map((h) => {
    const field = matchOne(h, kind, choices);
    if (!field || used.has(field)) return '';
    used.add(field);
    return field;
  });
}

/** What is wrong with a mapping before anything is sent: a field filled twice, a required one missing. */
export function mappingProblems(mapping: string[], kind: ImportKind): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  mapping.forEach((field, i) => {
    if (!field) return;
    const first = seen.get(field);
    if (first !== undefined) problems.push(`columns ${first + 1} and ${i + 1} both fill ${field}: map or skip one`);
    else seen.set(field, i);
  });
  for (const field of REQUIRED[kind])
    if (!seen.has(field)) problems.push(`no column fills ${field}, which every record needs`);
  return problems;
}

/** The field paths for shared/import-rows.ts's rowMapper: null for a skipped column. */
export const pathsOf = (mapping: string[]) => mapping.map((f) => (f ? f.split('.') : null));
