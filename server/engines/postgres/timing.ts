/**
 * Where applying time goes, per phase, when PARLEY_PG_TIMING names a file prefix
 * (docs/PERFORMANCE.md#postgresql): totals in ms and counts, and this process's CPU time,
 * rewritten to `<prefix>.<pid>` every second. Off (and free) otherwise.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.PARLEY_PG_TIMING;
const on = !!file;
const totals = new Map<string, [ms: number, n: number]>();
let timer: NodeJS.Timeout | undefined;

/** Adds the time since `t0` (performance.now()) to `phase`. */
export function mark(phase: string, t0: number): number {
  if (!on) return 0;
  const now = performance.now();
  const t = totals.get(phase) ?? [0, 0];
  t[0] += now - t0;
  t[1]++;
  totals.set(phase, t);
  if (!timer) {
    timer = setInterval(() => {
      const out = Object.fromEntries([...totals].map(([k, [ms, n]]) => [k, { ms: Math.round(ms), n }]));
      const cpu = process.cpuUsage();
      writeFileSync(
        `${file}.${process.pid}`,
        JSON.stringify({ ...out, cpu_ms: Math.round((cpu.user + cpu.system) / 1000) }) + '\n',
      );
    }, 1000);
    timer.unref();
  }
  return now;
}

export const timingOn = on;
