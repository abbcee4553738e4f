/**
 * The embedded engine's lock on a data directory (server/engines/embedded/lock.ts): a live
 * holder keeps it, a dead one loses it — including a zombie, a process that has exited but
 * whose parent has not reaped it yet, which `kill(pid, 0)` still reports as alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, LockedError } from '../../server/engines/embedded/lock.ts';

const started: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A data directory whose lock file names `pid` as its holder. */
function lockedBy(pid: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-lock-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'LOCK'), String(pid));
  return dir;
}

/** The first line `child` prints. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
  });
}

/** The process state letter /proc reports for `pid` (R, S, Z, ...). */
function stateOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 1).trimStart()[0];
}

describe.skipIf(process.platform !== 'linux')('the data directory lock', () => {
  it('stays with a holder that is alive', () => {
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
    started.push(holder);
    const dir = lockedBy(holder.pid!);
    expect(() => acquireLock(dir)).toThrow(LockedError);
    expect(() => acquireLock(dir)).toThrow(`in use by process ${holder.pid}`);
  });

  it('is taken over from a holder that exited but was never reaped (a zombie)', async () => {
    // sh starts a child that exits after 0.2 s, prints its pid, then becomes `sleep`, which
    // never waits for children: the child stays a zombie until `sleep` goes.
    const parent = spawn('sh', ['-c', '(sleep 0.2; exit 0) & echo $!; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    started.push(parent);
    const pid = Number(await firstLine(parent));
    for (let i = 0; i < 200 && stateOf(pid) !== 'Z'; i++) await new Promise((r) => setTimeout(r, 25));
    expect(stateOf(pid)).toBe('Z');
    expect(() => process.kill(pid, 0)).not.toThrow(); // what the lock used to trust

    const dir = lockedBy(pid);
    const release = acquireLock(dir);
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).toBe(String(process.pid));
    release();
  });
});
