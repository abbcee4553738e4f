/**
 * The messages between the request thread and the store worker (worker.ts, worker-store.ts;
 * README, Limits of the embedded store). Both sides import these types and nothing else of
 * each other. Values cross by structured clone; errors cross as `WireError` and are rebuilt
 * with their class where a caller tells classes apart (`BadCursor`, `FilterError`).
 */
import type { OnWarning } from '../../core/apply-entry.ts';
import type { Site } from '../../core/records.ts';

/** What the worker is started with (`workerData`). */
export interface WorkerInit {
  storeDir: string;
  /** The request thread's clock at start; later ones arrive with each message that needs one. */
  now: number;
}

export interface WireError {
  name: string;
  message: string;
  /** `FilterError`'s field. */
  field?: string;
}

/** Request thread → worker. */
export type ToWorker =
  /**
   * Durable entries to apply in the order posted, as the JSON lines the log holds (a string is
   * copied across threads far cheaper than an object graph is cloned). `first`: an entry whose caller waits (feedback:
   * its author is promoted before the 201), applied ahead of those still queued, and again, as a
   * no-op, at its place in the log order.
   */
  | { t: 'apply'; lines: string[]; now: number; first?: boolean }
  /** A Store port method (core/store.ts); writes among them wait for the slice being applied. */
  | { t: 'call'; id: number; method: string; args: unknown[] }
  /** Capture the store as of everything applied so far and write it; answered with that position. */
  | { t: 'checkpoint'; id: number; now: number };

/** Worker → request thread. */
export type FromWorker =
  | { t: 'ready'; appliedSeq: number; sites: Site[] }
  | { t: 'failed'; error: WireError }
  /** Results of applied entries, by position; posted after each slice. */
  | { t: 'applied'; results: AppliedResult[] }
  | { t: 'ret'; id: number; ok: true; value: unknown }
  | { t: 'ret'; id: number; ok: false; error: WireError }
  /** A site record changed (settings, custom fields, segments): the request thread keeps a copy. */
  | { t: 'site'; site: Site }
  /** Custom field values dropped while applying an identity (the intake logs them). */
  | { t: 'warning'; warning: Parameters<OnWarning>[0] };

export type AppliedResult = { seq: number; ok: true; value: unknown } | { seq: number; ok: false; error: WireError };

export function toWire(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const field = (e as { field?: unknown }).field;
  return { name: e.constructor.name, message: e.message, ...(typeof field === 'string' ? { field } : {}) };
}
