/**
 * Records of the transactional imports (docs/API.md#http-api: `external_users/import`,
 * `external_accounts/import`) and of custom field definitions. The collector validates each
 * record with these schemas, and so does the import CLI before it sends anything, so a file's
 * bad rows are named without a round trip.
 *
 * Parsing normalizes like the identity schema: ids become strings, emails lower case, money
 * integer cents, timestamps Unix seconds. Custom fields may come as `custom_fields` (keys with
 * or without the `cf_` prefix) or as top-level `cf_*` keys (the CSV form); both end up in
 * `traits` under their `cf_` key. Unknown fields are ignored.
 */
import { z } from 'zod';
import {
  ACCOUNTS_PER_IDENTITY_MAX,
  CUSTOM_FIELD_KEY,
  CUSTOM_FIELD_VALUE_MAX_CHARS,
  CUSTOM_FIELDS_MAX,
  EMAIL_MAX_CHARS,
  ID_MAX_CHARS,
  IMPORT_MAX_RECORDS,
  NAME_MAX_CHARS,
  TEXT_MAX_CHARS,
  TYPE_MAX_CHARS,
} from './limits.ts';
import type { Traits } from './identity.ts';
import { accountId, externalId, line, moneyCents, moneyDecimal, normalizeEmail, timestamp } from './text.ts';

/** Tags on one external user, and the characters of one tag. */
export const TAGS_MAX = 100;
export const TAG_MAX_CHARS = 64;
/** Custom field definitions per site, and options of one select field. */
export const CUSTOM_FIELD_DEFS_MAX = 200;
export const SELECT_OPTIONS_MAX = 100;

const scalar = z.union([line(CUSTOM_FIELD_VALUE_MAX_CHARS), z.number().finite(), z.boolean()]);

/** `persona` or `cf_persona` → `cf_persona`. */
export function customFieldKey(key: string): string {
  return key.startsWith('cf_') ? key : `cf_${key}`;
}

/**
 * Gathers custom fields from `custom_fields` and top-level `cf_*` keys into one traits map,
 * reporting each bad key or value as an issue on the field the sender wrote.
 */
function gatherTraits(raw: Record<string, unknown>, ctx: z.RefinementCtx): Traits {
  const traits: Traits = {};
  const sources: [path: string[], key: string, value: unknown][] = [];
  for (const key of Object.keys(raw)) if (key.startsWith('cf_')) sources.push([[key], key, raw[key]]);
  const cf = raw.custom_fields;
  if (cf !== undefined && cf !== null) {
    if (typeof cf !== 'object' || Array.isArray(cf)) {
      ctx.addIssue({ code: 'custom', path: ['custom_fields'], message: 'must be an object of custom field values' });
    } else {
      for (const key of Object.keys(cf))
        sources.push([['custom_fields', key], customFieldKey(key), (cf as Record<string, unknown>)[key]]);
    }
  }
  for (const [path, key, value] of sources) {
    if (value === null || value === undefined || value === '') continue;
    if (!CUSTOM_FIELD_KEY.test(key)) {
      ctx.addIssue({ code: 'custom', path, message: 'custom field keys must match ^(cf_)?[a-z0-9_]{1,64}$' });
      continue;
    }
    const parsed = scalar.safeParse(value);
    if (!parsed.success) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `custom fields must be strings (≤${CUSTOM_FIELD_VALUE_MAX_CHARS} chars), finite numbers or booleans`,
      });
      continue;
    }
    traits[key] = parsed.data;
  }
  if (Object.keys(traits).length > CUSTOM_FIELDS_MAX) {
    ctx.addIssue({ code: 'custom', path: ['custom_fields'], message: `at most ${CUSTOM_FIELDS_MAX} custom fields` });
  }
  return traits;
}

/** Drops keys whose value is undefined so logged records stay compact. */
function compact<T extends Record<string, unknown>>(o: T): T {
  for (const key of Object.keys(o)) if (o[key] === undefined) delete o[key];
  return o;
}

const accountShape = {
  name: line(NAME_MAX_CHARS).nullish(),
  plan: line(TEXT_MAX_CHARS).nullish(),
  external_created_at: timestamp.nullish(),
  created_at: timestamp.nullish(),
  monthly_rate: moneyDecimal.nullish(),
  ltv: moneyDecimal.nullish(),
  mrr_cents: moneyCents.nullish(),
  ltv_cents: moneyCents.nullish(),
};

/**
 * A record schema whose custom fields are checked even when other fields fail (zod skips a
 * transform after an issue), so a 422 names every bad field of a record at once.
 */
function withTraits<S extends z.ZodType, T>(base: S, build: (v: z.output<S>, traits: Traits) => T) {
  return z.unknown().transform((raw, ctx) => {
    const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
    const traits = isObject ? gatherTraits(raw as Record<string, unknown>, ctx) : {};
    const r = base.safeParse(raw);
    if (!r.success) {
      for (const issue of r.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
      return z.NEVER;
    }
    return build(r.data, traits);
  });
}

type LooseAccount = { [K in keyof typeof accountShape]?: z.output<(typeof accountShape)[K]> | null } & {
  external_id?: string | null;
};

function normalizeAccount(a: LooseAccount, traits: Traits) {
  return compact({
    external_id: a.external_id ?? undefined,
    name: a.name ?? undefined,
    plan: a.plan ?? undefined,
    created_at: a.external_created_at ?? a.created_at ?? undefined,
    mrr_cents: a.mrr_cents ?? a.monthly_rate ?? undefined,
    ltv_cents: a.ltv_cents ?? a.ltv ?? undefined,
    traits,
  });
}

/** An account embedded in an imported user: without `external_id` it is private to that user. */
export const embeddedAccountSchema = withTraits(
  z.looseObject({ external_id: accountId(ID_MAX_CHARS).nullish(), ...accountShape }),
  normalizeAccount,
);

/** One record of `external_accounts/import`. */
export const importAccountSchema = withTraits(
  z.looseObject({ external_id: accountId(ID_MAX_CHARS), ...accountShape }),
  (a, traits) => ({ ...normalizeAccount(a, traits), external_id: a.external_id }),
);

export type ImportAccount = z.output<typeof embeddedAccountSchema>;

const tag = line(TAG_MAX_CHARS, 1)
  .transform((t) => t.trim())
  .refine((t) => t.length > 0, 'tags must not be blank');

const email = z
  .string({ error: 'is required' })
  .max(EMAIL_MAX_CHARS)
  .transform(normalizeEmail)
  .pipe(z.email('must be a valid email address'));

/** One record of `external_users/import`. */
export const importUserSchema = withTraits(
  z.looseObject({
    external_id: externalId(ID_MAX_CHARS),
    email,
    name: line(NAME_MAX_CHARS).nullish(),
    type: line(TYPE_MAX_CHARS).nullish(),
    external_created_at: timestamp.nullish(),
    created_at: timestamp.nullish(),
    account: embeddedAccountSchema.nullish(),
    // Every other account the user belongs to (docs/API.md#several-accounts), each with its id.
    accounts: z.array(importAccountSchema).max(ACCOUNTS_PER_IDENTITY_MAX).nullish(),
    tags: z.array(tag).max(TAGS_MAX).nullish(),
    tags_mode: z.enum(['add', 'replace']).nullish(),
  }),
  (u, traits) =>
    compact({
      external_id: u.external_id,
      email: u.email,
      name: u.name ?? undefined,
      type: u.type ?? undefined,
      created_at: u.external_created_at ?? u.created_at ?? undefined,
      traits,
      account: u.account ?? undefined,
      accounts: u.accounts?.length ? u.accounts : undefined,
      tags: u.tags ? [...new Set(u.tags)] : undefined,
      tags_mode: u.tags_mode ?? ('add' as const),
    }),
);

export type ImportUser = z.output<typeof importUserSchema>;

export const importUsersBody = z.object({ users: z.array(z.unknown()).min(1).max(IMPORT_MAX_RECORDS) });
export const importAccountsBody = z.object({ accounts: z.array(z.unknown()).min(1).max(IMPORT_MAX_RECORDS) });

export const CUSTOM_FIELD_TYPES = ['text', 'number', 'boolean', 'timestamp', 'url', 'select'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

/** A custom field definition; `key` is stored with its `cf_` prefix. */
export const customFieldDefSchema = z
  .object({
    key: z
      .string()
      .transform(customFieldKey)
      .pipe(z.string().regex(CUSTOM_FIELD_KEY, 'must match ^(cf_)?[a-z0-9_]{1,64}$')),
    object: z.enum(['user', 'account']),
    type: z.enum(CUSTOM_FIELD_TYPES),
    options: z.array(line(CUSTOM_FIELD_VALUE_MAX_CHARS, 1)).min(1).max(SELECT_OPTIONS_MAX).optional(),
  })
  .superRefine((d, ctx) => {
    if (d.type === 'select' && !d.options)
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'a select field needs its options' });
    if (d.type !== 'select' && d.options)
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'only a select field has options' });
  });

export type CustomFieldDef = z.output<typeof customFieldDefSchema>;

export const customFieldsBody = z.object({ custom_fields: z.array(customFieldDefSchema).max(CUSTOM_FIELD_DEFS_MAX) });
