/**
 * The streaming CSV parser: quoted fields, embedded delimiters, line breaks and quotes, BOM,
 * line-end styles, other delimiters — and the same rows however the text is cut into chunks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvError, CsvParser, parseCsv } from '../../shared/csv.ts';
import { csvLine, neutralise } from '../../server/http/csv-out.ts';

describe('parseCsv', () => {
  it('splits plain rows and fields', () => {
    expect(parseCsv('a,b,c\n1,2,3\n')).toEqual([
      ['a', 'b', 'c'],
      ['1', '2', '3'],
    ]);
  });

  it('keeps commas, line breaks and doubled quotes inside quoted fields', () => {
    expect(parseCsv('name,note\n"Doe, Jane","said ""hi""\nthen left"\n')).toEqual([
      ['name', 'note'],
      ['Doe, Jane', 'said "hi"\nthen left'],
    ]);
  });

  it('accepts CRLF, LF and CR line ends and a missing final line break', () => {
    expect(parseCsv('a,b\r\n1,2\r3,4\n5,6')).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
      ['5', '6'],
    ]);
  });

  it('drops a leading byte-order mark', () => {
    expect(parseCsv('\uFEFFexternal_id,email\n1,a@b.test\n')[0]).toEqual(['external_id', 'email']);
  });

  it('keeps empty fields, including trailing ones, and skips blank lines', () => {
    expect(parseCsv('a,,c,\n\n,,,\n')).toEqual([
      ['a', '', 'c', ''],
      ['', '', '', ''],
    ]);
  });

  it('splits on another delimiter and leaves commas alone then', () => {
    expect(parseCsv('a;b\n"x;y";1,5\n', ';')).toEqual([
      ['a', 'b'],
      ['x;y', '1,5'],
    ]);
    expect(parseCsv('a\tb\n1\t2\n', '\t')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  it('keeps a stray quote inside an unquoted field as text', () => {
    expect(parseCsv('a,5" screen\n')).toEqual([['a', '5" screen']]);
  });

  it('refuses a quoted field that never closes, naming its line', () => {
    expect(() => parseCsv('a\n"open\nstill open')).toThrow(/line 2/);
    expect(() => parseCsv('a\n"open')).toThrow(CsvError);
  });

  it('refuses a quote or a line break as the delimiter', () => {
    expect(() => new CsvParser('"')).toThrow(CsvError);
    expect(() => new CsvParser('\n')).toThrow(CsvError);
  });
});

describe('streaming', () => {
  it('gives the same rows however the text is cut into chunks', () => {
    const text = '\uFEFFid,"note, with comma"\r\n1,"multi\r\nline ""quoted"""\r\n2,plain\r\n3,"",\n';
    const whole = parseCsv(text);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: text.length }), { maxLength: 8 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const p = new CsvParser();
        const rows: string[][] = [];
        let last = 0;
        for (const at of [...points, text.length]) {
          rows.push(...p.push(text.slice(last, at)));
          last = at;
        }
        rows.push(...p.end());
        expect(rows).toEqual(whole);
      }),
    );
  });

  it('reads back whatever csvLine wrote, formula-like text as text', () => {
    const cell = fc.string({
      unit: fc.constantFrom('a', 'b', ',', ';', '"', '\n', '\r', ' ', 'é', '=', '+', '-', '@', '\t'),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
        fc.constantFrom(',', ';'),
        (rows, d) => {
          const text = rows.map((r) => csvLine(r, d)).join('');
          expect(parseCsv(text, d)).toEqual(rows.map((r) => r.map(neutralise)));
          // No cell a spreadsheet reads can start a formula.
          for (const row of parseCsv(text, d)) for (const c of row) expect(c).not.toMatch(/^[=+\-@\t\r]/);
        },
      ),
    );
  });

  it('writes text that could start a formula with a leading quote, and numbers as numbers', () => {
    expect(csvLine(['=HYPERLINK("http://x")', '-2', '+1', '@SUM(A1)', '\tx', 'ok', 5, -3, null])).toBe(
      `"'=HYPERLINK(""http://x"")",'-2,'+1,'@SUM(A1),'\tx,ok,5,-3,\n`,
    );
  });
});
