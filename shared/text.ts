/**
 * Zod building blocks for text and money that every wire schema shares. Server-side only in
 * practice (zod never ships to the browser); the widget imports nothing from this file.
 */
import { z } from 'zod';
import { MONEY_MAX_CENTS } from './limits.ts';
import { DECIMAL_TEXT, isWholeCents, SUB_CENT_MESSAGE, toCents } from './money.ts';

// C0 controls and DEL; tab, CR and LF are allowed only in multi-line text.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const LINE_BREAK = /[\t\r\n]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A single-line string of at most `max` characters: no control characters, no lone surrogates. */
export function line(max: number, min = 0) {
  return z
    .string()
    .min(min)
    .max(max)
    .refine((s) => !CONTROL.test(s) && !LINE_BREAK.test(s), 'must not contain control characters')
    .refine((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode');
}

/** Multi-line text (feedback bodies): line breaks allowed, other controls not. */
export function text(max: number) {
  return z
    .string()
    .max(max)
    .refine((s) => !CONTROL.test(s), 'must not contain control characters')
    .refine((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode');
}

/** An integrator id: a 1-255 char string, or a non-negative safe integer stored as a string. */
export function externalId(max: number) {
  return z.union(
    [
      line(max, 1).refine((s) => s.trim().length > 0, 'must not be blank'),
      z
        .number()
        .int('must be an integer or a string')
        .nonnegative()
        .refine(Number.isSafeInteger, 'must be a safe integer (send larger ids as strings)')
        .transform(String),
    ],
    { error: `must be a string of 1-${max} characters or a non-negative safe integer` },
  );
}

/**
 * The first character of the key an account without an id is stored under (server/core/records.ts):
 * no client account id may start with it, so no client can name another user's private account.
 */
export const PRIVATE_ACCOUNT_PREFIX = '~';

/** An integrator's account id: an `externalId` that does not start with PRIVATE_ACCOUNT_PREFIX. */
export function accountId(max: number) {
  return externalId(max).refine(
    (s) => !s.startsWith(PRIVATE_ACCOUNT_PREFIX),
    `must not start with "${PRIVATE_ACCOUNT_PREFIX}" (reserved for accounts without an id)`,
  );
}

/** Unix seconds (number) or an ISO-8601 string; always stored as integer Unix seconds. */
export const timestamp = z
  .union([
    z.number().finite().nonnegative().max(32503680000, 'must be Unix seconds, not milliseconds'),
    z.iso.datetime({ offset: true }).or(z.iso.date()),
  ])
  .transform((v) => (typeof v === 'number' ? Math.floor(v) : Math.floor(Date.parse(v) / 1000)));

/**
 * A money amount in currency units (99.5 or "99.50"), converted to integer cents. One with
 * more than two decimal places is refused in both forms (money.ts says why).
 */
export const moneyDecimal = z
  .union([z.number().finite().nonnegative(), z.string().regex(DECIMAL_TEXT, 'must be a decimal amount like 99.50')], {
    error: 'must be a number or a decimal string like 99.50',
  })
  // Only on a well-formed amount: "$99.999" gets one message, not two.
  .refine(isWholeCents, { error: SUB_CENT_MESSAGE, when: (payload) => payload.issues.length === 0 })
  .transform(toCents)
  .refine((c) => c <= MONEY_MAX_CENTS, `must be at most ${MONEY_MAX_CENTS / 100}`);

/** A money amount already in integer cents. */
export const moneyCents = z.number().int('must be whole cents').nonnegative().max(MONEY_MAX_CENTS);

/** Normalizes an email: trimmed, lower-cased (docs/API.md#the-identity-object: matched case-insensitively). */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
