/**
 * How values read in the console: money from integer cents as currency, ISO times as local
 * dates. Formatters are built once; Intl is slow to construct and the tables call these a lot.
 */

// The collector stores cents without a currency; the console shows them as US dollars.
const currency = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD' });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const count = new Intl.NumberFormat();

/** "$1,250.00" from 125000; a dash when the amount is unknown. */
export function money(cents: number | null | undefined): string {
  return typeof cents === 'number' ? currency.format(cents / 100) : '—';
}

/** A local date and time from an ISO-8601 string. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : dateTime.format(d);
}

/** A local date (no time) from an ISO-8601 string, for sign-up dates. */
export function day(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : dateOnly.format(d);
}

export function number(n: number | null | undefined): string {
  return typeof n === 'number' ? count.format(n) : '—';
}

/** "Berlin, BE, DE" from a location, skipping the parts that are missing. */
export function place(
  loc: { country?: string | null; region?: string | null; city?: string | null } | null | undefined,
): string {
  if (!loc) return '—';
  return [loc.city, loc.region, loc.country].filter(Boolean).join(', ') || '—';
}

/** The path and query of a page URL, which is what identifies it within the host app. */
export function pagePath(url: string | null | undefined): string {
  if (!url) return '—';
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}
