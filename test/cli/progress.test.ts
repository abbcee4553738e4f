/**
 * Import progress: a bar with rate and ETA redrawn in place on a terminal, plain lines without
 * control codes elsewhere.
 */
import { describe, expect, it } from 'vitest';
import { Progress, progressLine } from '../../server/cli/progress.ts';

describe('progressLine', () => {
  it('shows percent of bytes read, counts, rate and time left', () => {
    expect(progressLine({ bytes: 250, imported: 900, failed: 100 }, 1000, 10_000, true)).toBe(
      '[######------------------] 25% imported 900 failed 100 100 rec/s ETA 00:30',
    );
  });

  it('leaves the bar out for plain output and shows hours when the wait is long', () => {
    expect(progressLine({ bytes: 1, imported: 1, failed: 0 }, 1000, 10_000, false)).toBe(
      '0% imported 1 failed 0 0 rec/s ETA 2:46:30',
    );
  });

  it('has no ETA before anything is read', () => {
    expect(progressLine({ bytes: 0, imported: 0, failed: 0 }, 1000, 0, false)).toMatch(/ETA --:--$/);
  });
});

describe('Progress', () => {
  function sink(isTTY: boolean) {
    const out: string[] = [];
    return {
      out,
      isTTY,
      write: (s: string) => {
        out.push(s);
      },
    };
  }

  it('redraws one line in place on a terminal, at most every 100 ms', () => {
    let t = 0;
    const s = sink(true);
    const p = new Progress(s, 100, () => t);
    for (t = 100; t <= 150; t += 10) p.update({ bytes: t - 100, imported: 1, failed: 0 });
    p.done({ bytes: 0, imported: 2, failed: 0 });
    expect(s.out).toHaveLength(2);
    expect(s.out[0].startsWith('\r\u001b[2K[')).toBe(true);
    expect(s.out[1]).toMatch(/100% imported 2 failed 0 .*\n$/);
  });

  it('writes plain lines now and then when stderr is not a terminal', () => {
    let t = 0;
    const s = sink(false);
    const p = new Progress(s, 100, () => t, 1000);
    for (t = 0; t <= 3000; t += 100) p.update({ bytes: t / 30, imported: t, failed: 0 });
    expect(s.out).toHaveLength(3);
    expect(s.out.join('')).not.toMatch(/\u001b|\r/);
  });
});
