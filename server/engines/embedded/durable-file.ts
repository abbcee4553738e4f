/**
 * A lowdb adapter that is durable: write to a temp file, fsync it, rename it over the target,
 * fsync the directory. lowdb's own JSONFile (steno) renames but never fsyncs, so a power loss
 * can leave an empty file behind (docs/DESIGN.md#measured-facts). Reading a file that is not valid JSON throws
 * a clear error: a corrupt store stops start-up, it is never replaced by an empty one.
 */
import type { Adapter } from 'lowdb';
import { existsSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { syncDir } from './sync-dir.ts';

export class CorruptStoreError extends Error {}

export class DurableJSONFile<T> implements Adapter<T> {
  constructor(private readonly path: string) {}

  async read(): Promise<T | null> {
    if (!existsSync(this.path)) return null;
    const text = readFileSync(this.path, 'utf8');
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CorruptStoreError(
        `store file ${this.path} is not valid JSON; restore it from a backup or move it away (Parley will not replace it)`,
      );
    }
  }

  async write(data: T): Promise<void> {
    await this.writeText(JSON.stringify(data));
  }

  /** Writes JSON the caller already produced (checkpoints serialize early, write later). */
  async writeText(text: string): Promise<void> {
    const tmp = `${dirname(this.path)}/.${basename(this.path)}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    syncDir(dirname(this.path));
  }
}
