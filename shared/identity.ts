/**
 * The identity object (docs/API.md#the-identity-object), as sent by the widget's `identify`, by `bulk_identify`
 * and inside feedback. Parsing normalizes it: ids become strings, emails lower case, money
 * integer cents, timestamps Unix seconds, `cf_*` keys gathered into `traits`. Unknown fields
 * are ignored; anything that breaks a rule is an issue whose path names the field.
 */
import { z } from 'zod';
import {
  ACCOUNTS_PER_IDENTITY_MAX,
  APP_VERSION_MAX_CHARS,
  CUSTOM_FIELD_KEY,
  CUSTOM_FIELD_VALUE_MAX_CHARS,
  CUSTOM_FIELDS_MAX,
  EMAIL_MAX_CHARS,
  ID_MAX_CHARS,
  LOCALE_MAX_CHARS,
  NAME_MAX_CHARS,
  TEXT_MAX_CHARS,
  TIMEZONE_MAX_CHARS,
  TYPE_MAX_CHARS,
} from './limits.ts';
import { accountId, externalId, line, moneyCents, moneyDecimal, normalizeEmail, timestamp } from './text.ts';

export type TraitValue = string | number | boolean;
export type Traits = Record<string, TraitValue>;

const traitValue = z.union([line(CUSTOM_FIELD_VALUE_MAX_CHARS), z.number().finite(), z.boolean()]);

/**
 * Gathers `cf_*` keys of a loosely parsed object into a traits map, reporting bad keys, non-scalar
 * values and more than CUSTOM_FIELDS_MAX traits as issues on the offending key.
 */
function gatherTraits(raw: Record<string, unknown>, ctx: z.RefinementCtx): Traits {
  const traits: Traits = {};
  let count = 0;
  for (const key of Object.keys(raw)) {
    if (!key.startsWith('cf_')) continue;
    if (!CUSTOM_FIELD_KEY.test(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: 'custom field keys must match ^cf_[a-z0-9_]{1,64}$' });
      continue;
    }
    const value = raw[key];
    if (value === null || value === undefined) continue;
    const parsed = traitValue.safeParse(value);
    if (!parsed.success) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: 'custom fields must be strings (≤1024 chars), finite numbers or booleans',
      });
      continue;
    }
    if (++count > CUSTOM_FIELDS_MAX) {
      ctx.addIssue({ code: 'custom', path: [key], message: `at most ${CUSTOM_FIELDS_MAX} custom fields` });
      break;
    }
    traits[key] = parsed.data;
  }
  return traits;
}

/** Drops keys whose value is undefined so records stay compact and comparable. */
function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

export const accountSchema = z
  .looseObject({
    id: accountId(ID_MAX_CHARS).nullish(),
    name: line(NAME_MAX_CHARS).nullish(),
    plan: line(TEXT_MAX_CHARS).nullish(),
    created_at: timestamp.nullish(),
    monthly_rate: moneyDecimal.nullish(),
    ltv: moneyDecimal.nullish(),
    mrr_cents: moneyCents.nullish(),
    ltv_cents: moneyCents.nullish(),
  })
  .transform((a, ctx) => {
    const traits = gatherTraits(a, ctx);
    return compact({
      id: a.id ?? undefined,
      name: a.name ?? undefined,
      plan: a.plan ?? undefined,
      created_at: a.created_at ?? undefined,
      mrr_cents: a.mrr_cents ?? a.monthly_rate ?? undefined,
      ltv_cents: a.ltv_cents ?? a.ltv ?? undefined,
      traits,
    });
  });

export type AccountInput = z.output<typeof accountSchema>;

/**
 * `accounts`: every account the person belongs to (docs/API.md#the-identity-object). Each names
 * its `id`: an account without one is private to the person, and a person has one of those at
 * most, given as `account`.
 */
export const accountsSchema = z
  .array(
    accountSchema.refine((a) => a.id !== undefined, {
      message: 'every account in accounts needs an id',
      path: ['id'],
    }),
  )
  .max(ACCOUNTS_PER_IDENTITY_MAX, `at most ${ACCOUNTS_PER_IDENTITY_MAX} accounts`);

export const locationSchema = z
  .object({
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'must be an ISO-3166 alpha-2 code')
      .transform((c) => c.toUpperCase())
      .nullish(),
    region: line(TEXT_MAX_CHARS).nullish(),
    city: line(TEXT_MAX_CHARS).nullish(),
  })
  .transform((l) =>
    compact({ country: l.country ?? undefined, region: l.region ?? undefined, city: l.city ?? undefined }),
  );

export type Location = z.output<typeof locationSchema>;

const email = z.string().max(EMAIL_MAX_CHARS).transform(normalizeEmail).pipe(z.email('must be a valid email address'));

export const identitySchema = z
  .looseObject({
    id: externalId(ID_MAX_CHARS).nullish(),
    email,
    name: line(NAME_MAX_CHARS).nullish(),
    type: line(TYPE_MAX_CHARS).nullish(),
    created_at: timestamp.nullish(),
    account: accountSchema.nullish(),
    accounts: accountsSchema.nullish(),
    app_version: line(APP_VERSION_MAX_CHARS).nullish(),
    location: locationSchema.nullish(),
    timezone: line(TIMEZONE_MAX_CHARS).nullish(),
    locale: line(LOCALE_MAX_CHARS).nullish(),
    identity_token: line(4096).nullish(),
    user_hash: z
      .string()
      .regex(/^[0-9a-fA-F]{1,128}$/, 'must be a hex HMAC')
      .nullish(),
  })
  .transform((i, ctx) => {
    const traits = gatherTraits(i, ctx);
    return compact({
      // docs/API.md#the-identity-object: when absent, the normalized email is the id.
      id: i.id ?? i.email,
      email: i.email,
      name: i.name ?? undefined,
      type: i.type ?? undefined,
      created_at: i.created_at ?? undefined,
      traits,
      account: i.account ?? undefined,
      // An empty list says nothing: absent, as the fast path has it.
      accounts: i.accounts?.length ? i.accounts : undefined,
      app_version: i.app_version ?? undefined,
      location: i.location ?? undefined,
      timezone: i.timezone ?? undefined,
      locale: i.locale ?? undefined,
      identity_token: i.identity_token ?? undefined,
      user_hash: i.user_hash ?? undefined,
    });
  });

type Parsed = z.output<typeof identitySchema>;
/** A validated, normalized identity; optional fields are simply absent. */
export type Identity = { [K in keyof Parsed]?: Parsed[K] } & Pick<Parsed, 'id' | 'email' | 'traits'>;
