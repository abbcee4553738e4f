/**
 * One process per data directory: lowdb's lock is in-process only, and two writers corrupt the
 * store (docs/DESIGN.md#measured-facts). The lock file holds the owner's pid; a lock left by a dead process
 * (kill -9) is taken over.
 */
import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';

export class LockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock or throws LockedError; returns the function that releases it. */
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
