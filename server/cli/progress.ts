/**
 * Progress of an import on stderr: on a terminal, one bar redrawn in place with the rate and
 * the time left; otherwise (a log, a pipe, CI) a plain line now and then, never control codes.
 * Progress is measured in bytes of the file read, so it needs no first pass to count rows.
 */

export interface ProgressSink {
  isTTY?: boolean;
  write(s: string): unknown;
}

export interface ProgressState {
  bytes: number;
  imported: number;
  failed: number;
}

const BAR = 24;

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * One progress line: bar (when `bar`), percent, counts, records per second and ETA. `verb`
 * names the good records: `imported`, or in a dry run `valid`.
 */
export function progressLine(
  s: ProgressState,
  totalBytes: number,
  elapsedMs: number,
  bar: boolean,
  verb = 'imported',
): string {
  const fraction = totalBytes > 0 ? Math.min(1, s.bytes / totalBytes) : 1;
  const done = s.imported + s.failed;
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const eta = fraction > 0 ? ((elapsedMs / 1000) * (1 - fraction)) / fraction : Infinity;
  const filled = Math.round(fraction * BAR);
  const head = bar ? `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ` : '';
  return `${head}${Math.floor(fraction * 100)}% ${verb} ${s.imported} failed ${s.failed} ${Math.round(rate)} rec/s ETA ${clock(eta)}`;
}

export class Progress {
  private readonly started: number;
  private lastDraw = 0;

  constructor(
    private readonly sink: ProgressSink,
    private readonly totalBytes: number,
    private readonly now: () => number = Date.now,
    /** Plain lines are written at most this often. */
    private readonly plainEveryMs = 2000,
    private readonly verb = 'imported',
  ) {
    this.started = now();
  }

  update(s: ProgressState): void {
    const t = this.now();
    if (this.sink.isTTY) {
      if (t - this.lastDraw < 100) return;
      this.lastDraw = t;
      this.sink.write(`\r\u001b[2K${progressLine(s, this.totalBytes, t - this.started, true, this.verb)}`);
    } else if (t - this.lastDraw >= this.plainEveryMs) {
      this.lastDraw = t;
      this.sink.write(progressLine(s, this.totalBytes, t - this.started, false, this.verb) + '\n');
    }
  }

  done(s: ProgressState): void {
    const line = progressLine(
      { ...s, bytes: this.totalBytes },
      this.totalBytes,
      this.now() - this.started,
      Boolean(this.sink.isTTY),
      this.verb,
    );
    this.sink.write(this.sink.isTTY ? `\r\u001b[2K${line}\n` : line + '\n');
  }
}
