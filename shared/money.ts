/**
 * Money amounts in currency units ("99.50", 99.5) and the integer cents they are stored as
 * (docs/API.md#the-identity-object). An amount that is not a whole number of cents is refused,
 * never rounded: 0.001 silently becoming 0 cents would misstate an account's revenue. Plain
 * functions, no zod, so the schema (text.ts) and its fast path (identity-fast.ts) share one rule.
 */

/** Why a money amount is refused when it has more decimal places than cents have. */
export const SUB_CENT_MESSAGE = 'has more than 2 decimal places (money is counted in whole cents)';

/** A decimal amount as text: digits, optionally a point and digits; no sign, no exponent. */
export const DECIMAL_TEXT = /^\d{1,10}(\.\d+)?$/;

/** Decimal text with at most two significant decimals ("1.500" is whole cents, "1.501" is not). */
const WHOLE_CENTS_TEXT = /^\d+(\.\d{1,2}0*)?$/;

/**
 * Whether an amount is a whole number of cents as written. A number is judged by its shortest
 * decimal form (what `String` prints, which is what a JSON sender wrote for it): 0.29 is whole
 * cents even though 0.29 * 100 is 28.999…, 0.001 and 1e-7 are not. Exponents in that form
 * appear only below 1e-6 (never whole cents, unless zero) and above 1e21 (integers).
 */
export function isWholeCents(amount: number | string): boolean {
  if (typeof amount === 'string') return WHOLE_CENTS_TEXT.test(amount);
  const s = String(amount);
  if (s.includes('e')) return amount === 0 || s.includes('e+');
  const point = s.indexOf('.');
  return point < 0 || s.length - point - 1 <= 2;
}

/** Integer cents of a finite, non-negative, whole-cent amount (check `isWholeCents` first). */
export function toCents(amount: number | string): number {
  return Math.round(Number(amount) * 100);
}
