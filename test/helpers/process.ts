/**
 * The collector as a real process, the way an operator runs it: `server/main.ts` in one node
 * process (no tsx wrapper, so a SIGKILL hits the server itself), on an ephemeral loopback port.
 * `ready` resolves with its URL once it prints that it listens, or rejects with its stderr if
 * it exits first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export interface CollectorProcess {
  child: ChildProcess;
  ready: Promise<string>;
  exited: Promise<number | null>;
  output(): { out: string; err: string };
}

/**
 * Data directories and processes for one test file, gone after it: `tempDir()` makes a fresh
 * directory, `procs` takes the processes to SIGKILL if a test left them running.
 */
export function processScratch(prefix: string) {
  const dirs: string[] = [];
  const procs: ChildProcess[] = [];
  afterAll(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
  return { tempDir, procs };
}

export function spawnCollector(env: Record<string, string>): CollectorProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', PARLEY_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const t = setInterval(() => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearInterval(t);
        resolve(m[1].replace('localhost', '127.0.0.1'));
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(t);
      reject(new Error(`exited ${code}: ${err}`));
    });
  });
  return { child, ready, exited, output: () => ({ out, err }) };
}

/**
 * A collector on `dir` that checkpoints only when it stops, so whatever it answered lives in its
 * intake log alone, with an admin client: for tests that SIGKILL it and read what the replay
 * kept. Its process joins `track` before it is ready, so the caller's afterAll can kill it.
 */
export async function logOnlyCollector(dir: string, adminKey: string, track: ChildProcess[]) {
  const p = spawnCollector({ PARLEY_DATA_DIR: dir, PARLEY_DEMO_ADMIN_KEY: adminKey, PARLEY_CHECKPOINT_MS: '600000' });
  track.push(p.child);
  const url = await p.ready;
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + '/api/v2/admin' + path, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  return { p, send, get: async (path: string) => (await send('GET', path)).json };
}
