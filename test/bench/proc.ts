/**
 * Servers under test as real processes: the Parley collector (`server/main.ts`, what production
 * runs) and the bare `node:http` baseline. Each prints `listening on http://...:PORT`; RSS is
 * read from /proc, so it is the whole process, heap and buffers included.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../server/paths.ts';

/** USER_HZ: /proc reports CPU times in these ticks (100 on Linux). */
const CLOCK_TICKS = 100;

export const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';

export interface Proc {
  url: string;
  child: ChildProcess;
  /** Resident set size now, in MB. */
  rssMb(): number;
  /** CPU time the process has used so far (user + system), in seconds. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

async function launch(args: string[], env: Record<string, string>, cwd = ROOT): Promise<Proc> {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    // Opening a large seeded store on a loaded shared machine can take minutes.
    const timer = setTimeout(() => reject(new Error(`no "listening on" within 300 s: ${err}`)), 300_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace('localhost', '127.0.0.1'));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${err}`));
    });
  });
  return {
    url,
    child,
    rssMb: () => {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Number(m[1]) / 1024 : NaN;
      } catch {
        return NaN;
      }
    },
    cpuSeconds: () => {
      try {
        // Fields 14 and 15 of /proc/PID/stat (after the parenthesized command name): utime, stime.
        const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
      } catch {
        return NaN;
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/**
 * The collector as `npm start` runs it (without the build step), rate limits off. `root` runs
 * another checkout of Parley instead (a before/after comparison in one run).
 */
export function startCollector(
  dataDir: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
  root = ROOT,
): Promise<Proc> {
  return launch(
    [...nodeArgs, '--import', 'tsx', join(root, 'server/main.ts')],
    {
      PORT: '0',
      HOST: '127.0.0.1',
      PARLEY_DATA_DIR: dataDir,
      PARLEY_DEMO_ADMIN_KEY: ADMIN_KEY,
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_RATE_LIMIT: 'off',
      ...env,
    },
    root,
  );
}

/** The physical limit: node:http that reads the body, JSON.parses it and answers 202. */
export function startBare(): Promise<Proc> {
  return launch([join(ROOT, 'test/bench/bare-server.mjs')], {});
}

/** Samples a process's RSS every `ms` until stopped; returns the peak and the last sample. */
export function sampleRss(proc: Proc, ms = 100) {
  let peak = proc.rssMb();
  let last = peak;
  const timer = setInterval(() => {
    last = proc.rssMb();
    if (last > peak) peak = last;
  }, ms);
  return {
    stop() {
      clearInterval(timer);
      last = proc.rssMb();
      peak = Math.max(peak, last);
      return { peak, last };
    },
  };
}
