/**
 * The embedded engine's intake log: an append-only file of JSON lines with group commit. A 202
 * is sent only after the entry is written and fdatasync'd; every request that arrives while one
 * sync runs shares the next one, so the cost of durability is paid per sync, not per request
 * (docs/DESIGN.md#measured-facts: ~53k small writes/s at p50 0.8 ms on this machine).
 *
 * The log is split into segments named by their first sequence number. A checkpoint of the
 * store rotates to a new segment and then deletes the segments it fully covers, so the log
 * holds only what the store has not yet absorbed.
 */
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { IntakeLog, LogEntry } from '../../core/intake-log.ts';
import { syncDir } from './sync-dir.ts';

/** A queued line, or (line null) a request to rotate to a new segment at that point. */
interface Waiter {
  line: string | null;
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}
interface Segment {
  first: number;
  last: number;
  path: string;
}

const SEGMENT = /^intake-(\d{12})\.log$/;

/**
 * The JSON line each entry appended by this process was written as: the store worker is handed
 * that string (copied, not structured-cloned, and parsed there), so the request thread
 * serializes an entry once (worker-store.ts).
 */
export const encoded = new WeakMap<object, string>();

export class FileLog implements IntakeLog {
  private seq = 0;
  private segments: Segment[] = [];
  private fh: FileHandle | null = null;
  private queue: Waiter[] = [];
  private writing: Promise<void> = Promise.resolve();
  /** Set synchronously, because flush() may finish without ever yielding. */
  private flushing = false;
  private entries: LogEntry[] = [];

  private constructor(private readonly dir: string) {}

  /** Opens the log directory, reads what it holds, and starts a fresh segment after it. */
  static async open(dir: string, minSeq = 0): Promise<FileLog> {
    mkdirSync(dir, { recursive: true });
    const log = new FileLog(dir);
    log.seq = minSeq;
    log.readExisting();
    // An empty last segment (a checkpoint rotated, then the process stopped) is reopened as the
    // active one. Tracked twice, a later checkpoint would unlink the file being appended to.
    const last = log.segments[log.segments.length - 1];
    if (last && last.last < last.first) {
      log.segments.pop();
      unlinkSync(last.path);
    }
    await log.startSegment();
    return log;
  }

  private readExisting() {
    const names = readdirSync(this.dir)
      .filter((n) => SEGMENT.test(n))
      .sort();
    for (const name of names) {
      const path = join(this.dir, name);
      const lines = readFileSync(path, 'utf8').split('\n');
      let last = Number(SEGMENT.exec(name)![1]) - 1;
      lines.forEach((line, i) => {
        if (line === '') return;
        let entry: LogEntry;
        try {
          entry = JSON.parse(line);
        } catch {
          // Only the final line can be torn (killed mid-write, so never acknowledged).
          if (lines.slice(i + 1).some((l) => l !== ''))
            throw new Error(`intake log ${path} is corrupt at line ${i + 1}`);
          return;
        }
        this.entries.push(entry);
        last = Math.max(last, entry.seq);
      });
      this.segments.push({ first: Number(SEGMENT.exec(name)![1]), last, path });
      this.seq = Math.max(this.seq, last);
    }
  }

  replay(): LogEntry[] {
    const out = this.entries;
    this.entries = [];
    return out;
  }

  private async startSegment() {
    // Every entry queued before the rotation has a sequence number at or below the last one
    // handed out, so the new segment's name is only a lower bound for its entries.
    const first = this.segments.length ? this.segments[this.segments.length - 1].last + 1 : this.seq + 1;
    const path = join(this.dir, `intake-${String(first).padStart(12, '0')}.log`);
    this.fh = await open(path, 'a');
    syncDir(this.dir);
    this.segments.push({ first, last: first - 1, path });
  }

  append<T extends Omit<LogEntry, 'seq'>>(entry: T): Promise<T & { seq: number }> {
    const withSeq = { ...entry, seq: ++this.seq };
    const line = JSON.stringify(withSeq);
    encoded.set(withSeq, line);
    return this.enqueue(line + '\n', withSeq.seq).then(() => withSeq);
  }

  private enqueue(line: string | null, seq: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, seq, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        this.writing = this.flush();
      }
    });
  }

  /**
   * Writes and syncs everything queued, again and again until the queue is empty. Rotation
   * requests are queued like lines, so a segment switch happens exactly between two writes.
   */
  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const marker = this.queue.findIndex((w) => w.line === null);
      const batch = this.queue.splice(0, marker === -1 ? this.queue.length : marker);
      try {
        if (batch.length > 0) {
          await this.fh!.write(batch.map((w) => w.line).join(''));
          await this.fh!.datasync();
          this.segments[this.segments.length - 1].last = batch[batch.length - 1].seq;
          for (const w of batch) w.resolve();
        }
        if (marker !== -1) {
          const rotation = this.queue.shift()!;
          const current = this.segments[this.segments.length - 1];
          if (current.last >= current.first) {
            await this.fh!.close();
            await this.startSegment();
          }
          rotation.resolve();
        }
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.flushing = false;
  }

  /** Starts a new segment after what is queued; resolves with the last sequence number of the closed ones. */
  async rotate(): Promise<number> {
    const closedThrough = this.seq;
    await this.enqueue(null, closedThrough);
    return closedThrough;
  }

  /** Deletes the segments whose entries are all at or below `seq` (a checkpoint covers them). */
  dropThrough(seq: number): void {
    const active = this.segments[this.segments.length - 1];
    this.segments = this.segments.filter((s) => {
      if (s === active || s.last > seq) return true;
      unlinkSync(s.path);
      return false;
    });
    syncDir(this.dir);
  }

  async close(): Promise<void> {
    await this.writing;
    await this.fh?.close();
    this.fh = null;
  }
}
