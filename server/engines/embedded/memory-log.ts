/**
 * An intake log that keeps nothing: for the memory store, which is not durable anyway (tests).
 */
import type { IntakeLog, LogEntry } from '../../core/intake-log.ts';

export class MemoryLog implements IntakeLog {
  private seq = 0;
  replay(): LogEntry[] {
    return [];
  }
  async append<T extends Omit<LogEntry, 'seq'>>(entry: T) {
    return { ...entry, seq: ++this.seq };
  }
  /** Nothing to rotate: resolves with the last sequence number handed out. */
  async rotate() {
    return this.seq;
  }
  dropThrough() {}
  async close() {}
}
