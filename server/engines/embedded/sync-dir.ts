/**
 * fsync of a directory: a created, renamed or deleted file survives a crash only once its
 * directory is synced. The intake log and the checkpoint files both need it.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';

/** fsyncs `dir` so that a file created, renamed or deleted in it survives a crash. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
