/**
 * A streaming CSV parser (RFC 4180, leniently): quoted fields with embedded delimiters, line
 * breaks and doubled quotes; LF, CRLF or CR line ends; a leading byte-order mark; any one-character
 * delimiter. Text goes in by chunks of any size — a chunk may end in the middle of a field, a
 * quote pair or a CRLF — and complete rows come out, so a file of a million rows is never held
 * whole. Pure: no I/O.
 */

export class CsvError extends Error {}

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
}

export class CsvParser {
  private state = State.FieldStart;
  private field = '';
  private row: string[] = [];
  private rows: string[][] = [];
  private started = false;
  private skipLf = false;
  /** Line (1-based) the current row started on, for error messages. */
  private line = 1;
  private rowLine = 1;

  constructor(private readonly delimiter = ',') {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
      throw new CsvError('the delimiter must be one character other than a quote or a line break');
    }
  }

  /** Feeds a chunk; returns the rows it completed. Blank lines are skipped. */
  push(chunk: string): string[][] {
    let i = 0;
    if (!this.started && chunk.length > 0) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    const d = this.delimiter;
    for (; i < chunk.length; i++) {
      const ch = chunk[i];
      if (this.skipLf) {
        this.skipLf = false;
        if (ch === '\n') continue;
      }
      switch (this.state) {
        case State.Quoted:
          if (ch === '"') this.state = State.QuoteInQuoted;
          else {
            if (ch === '\n' || (ch === '\r' && chunk[i + 1] !== '\n')) this.line++;
            this.field += ch;
          }
          break;
        case State.QuoteInQuoted:
          if (ch === '"') {
            this.field += '"';
            this.state = State.Quoted;
            break;
          }
          this.state = State.Unquoted;
          this.unquoted(ch, d);
          break;
        case State.FieldStart:
          if (ch === '"') {
            this.state = State.Quoted;
            break;
          }
          this.state = State.Unquoted;
          this.unquoted(ch, d);
          break;
        case State.Unquoted:
          this.unquoted(ch, d);
          break;
      }
    }
    return this.rows.splice(0);
  }

  /** Ends the input; returns the last row if the text did not end with a line break. */
  end(): string[][] {
    if (this.state === State.Quoted)
      throw new CsvError(`a quoted field opened on line ${this.rowLine} is never closed`);
    if (this.state !== State.FieldStart || this.row.length > 0) this.endRow();
    return this.rows.splice(0);
  }

  /** A character outside quotes (a stray quote inside an unquoted field is kept as text). */
  private unquoted(ch: string, d: string) {
    if (ch === d) {
      this.row.push(this.field);
      this.field = '';
      this.state = State.FieldStart;
    } else if (ch === '\n' || ch === '\r') {
      this.endRow();
      this.line++;
      this.rowLine = this.line;
      this.skipLf = ch === '\r';
    } else {
      this.field += ch;
    }
  }

  private endRow() {
    this.row.push(this.field);
    this.field = '';
    this.state = State.FieldStart;
    const blank = this.row.length === 1 && this.row[0] === '';
    if (!blank) this.rows.push(this.row);
    this.row = [];
  }
}

/** Parses a whole text (tests, small inputs). */
export function parseCsv(text: string, delimiter = ','): string[][] {
  const p = new CsvParser(delimiter);
  return [...p.push(text), ...p.end()];
}
