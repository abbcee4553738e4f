/**
 * The intake's ports: the log it makes acknowledged entries durable in, and how those entries
 * reach the store (docs/DESIGN.md). The intake calls them and the engines implement them, so
 * they live here, below both: an engine never imports the intake.
 *
 * An engine chooses its applier once, when it opens, and the intake follows it:
 * - `serial` (the embedded engine): one process owns the store. The intake applies entries
 *   itself, one write at a time in its serial section, and checkpoints the store so that the
 *   log can be trimmed behind it.
 * - `delegated` (the embedded engine in a collector): one thread owns the store, not the one
 *   that answers requests. The intake hands each durable entry over and goes on answering;
 *   the owner applies entries in the order handed over and checkpoints when asked.
 * - `transactional` (PostgreSQL): each entry is applied in its own transaction, which also
 *   removes it from a log that several processes share. No serial section, no checkpoints;
 *   entries left by processes that died are adopted.
 */
import type { FieldWarning } from './custom-fields.ts';
import type { Store } from './store.ts';

/** One durable entry of the intake log: an operation (`identify`, `feedback`, an admin op) and its position. */
export interface LogEntry {
  seq: number;
  op: string;
  [k: string]: unknown;
}

/** The log the intake appends to before it acknowledges. */
export interface IntakeLog {
  /** Entries still in the log, oldest first (read once, at start). */
  replay(): LogEntry[];
  /** Makes the entry durable and returns it with its sequence number. */
  append<T extends Omit<LogEntry, 'seq'>>(entry: T): Promise<T & { seq: number }>;
  close(): Promise<void>;
}

/** How entries reach the store: chosen by the engine at open (see the top of this file). */
export type Applier = SerialApplier | DelegatedApplier | TransactionalApplier;

export interface SerialApplier {
  kind: 'serial';
  /** The log position the store's last checkpoint covers: replay resumes after it. */
  appliedSeq(): number;
  /**
   * Captures the store as of `seq` and returns the function that writes it. Capture and write
   * are split so the capture runs inside the serial section (no write can interleave) and the
   * slow write outside it.
   */
  prepareCheckpoint(seq: number): Promise<() => Promise<void>>;
  /** Starts a new log segment; resolves with the last sequence number of the closed ones. */
  rotateLog(): Promise<number>;
  /** Deletes the log segments whose entries are all at or below `seq` (a checkpoint covers them). */
  dropLogThrough(seq: number): void;
  /** Checkpoint this often, in ms (0: only after `checkpointEvery` entries and on close). */
  checkpointMs: number;
  /** ...and after this many applied entries (0: not by count). */
  checkpointEvery: number;
}

export interface DelegatedApplier {
  kind: 'delegated';
  /** The log position the store's last checkpoint covers: replay resumes after it. */
  appliedSeq(): number;
  /**
   * Hands durable entries over, to be applied after every entry handed over before them, as of
   * `now`; each promise resolves with its entry's result once applied. `first`: applied ahead of
   * the entries still waiting, and again (a no-op) in its place — feedback, whose author must be
   * visible before its 201.
   */
  apply(entries: LogEntry[], now: number, first?: boolean): Promise<unknown>[];
  /** Where custom field values dropped while applying are reported (the intake logs them). */
  onWarning(report: (w: { site: string; message_id: string; warnings: FieldWarning[] }) => void): void;
  /** Checkpoints the store through everything applied so far and trims the log behind it. */
  checkpoint(now: number): Promise<void>;
  /** Checkpoint this often, in ms (0: only after `checkpointEvery` entries and on close). */
  checkpointMs: number;
  /** ...and after this many applied entries (0: not by count). */
  checkpointEvery: number;
}

export interface TransactionalApplier {
  kind: 'transactional';
  /** People per identify entry: an entry locks the people it names, so large batches are split. */
  entryItems: number;
  /**
   * Runs `fn` on a store bound to one transaction that also removes the entry from the shared
   * log, so it is applied once across processes; resolves undefined when another process
   * applied it first.
   */
  apply<T>(entry: LogEntry, fn: (store: Store) => Promise<T>): Promise<T | undefined>;
  /** Entries acknowledged by processes that have died since, now for this one to apply. */
  adopt(): Promise<LogEntry[]>;
  /** Identities acknowledged and not applied yet, by every process sharing the log. */
  sharedDepth(): Promise<number>;
  /** Look for entries to adopt this often, in ms (0: never). */
  adoptMs: number;
}
