/**
 * One process per data directory: lowdb's lock is in-process only, and two writers corrupt the
 * store (docs/DESIGN.md#measured-facts). The lock file holds the owner's pid; a lock left by a
 * dead process (kill -9) is taken over, including one whose process is a zombie (dead but not
 * yet reaped by its parent, which `kill(pid, 0)` still reports as alive).
 */
import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';

export class LockedError extends Error {}

/**
 * Whether `pid` is a zombie: on Linux, state `Z` in /proc/<pid>/stat. Without /proc (other
 * systems) this is false, and `kill(pid, 0)` alone decides, as before.
 */
function zombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // `pid (comm) state ...`: comm may itself hold spaces and parentheses, so read after the last ')'.
  return stat
    .slice(stat.lastIndexOf(')') + 1)
    .trimStart()
    .startsWith('Z');
}

/** Whether `pid` is a running process (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !zombie(pid);
}

/** Takes the lock on `dataDir` or throws LockedError; returns the function that releases it. */
export function acquireLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8'));
      if (pid && pid !== process.pid && alive(pid)) {
        throw new LockedError(
          `data directory ${dataDir} is in use by process ${pid} (one process per data directory; stop it first)`,
        );
      }
      unlinkSync(path); // stale: its owner is gone
    }
  }
  throw new LockedError(`could not lock ${dataDir}`);
}
