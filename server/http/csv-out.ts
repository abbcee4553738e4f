/**
 * Writing CSV for people to open: the import CLI's errors file today, exports tomorrow. Every
 * CSV Parley writes goes through `csvLine`. A text cell that a spreadsheet would run as a
 * formula — one starting with `=`, `+`, `-`, `@`, a tab or a carriage return ("CSV
 * injection") — is written with a leading `'`, which spreadsheets show as text; numbers are
 * written as they are. What was imported is stored as the text it was: only the file written
 * for a person is neutralised.
 */

const FORMULA_START = /^[=+\-@\t\r]/;

/** The cell as a spreadsheet must read it: as text when it could start a formula. */
export function neutralise(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** One cell: neutralised text, quoted where the delimiter, a quote or a line break needs it. */
export function csvCell(value: string | number | null | undefined, delimiter = ','): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const s = neutralise(value);
  return s.includes(delimiter) || /["\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line for `cells`, ending in `\n`. */
export function csvLine(cells: (string | number | null | undefined)[], delimiter = ','): string {
  return cells.map((c) => csvCell(c, delimiter)).join(delimiter) + '\n';
}
