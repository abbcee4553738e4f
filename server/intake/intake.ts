/**
 * Intake: acknowledged fast, applied asynchronously (docs/API.md#identify-semantics).
 *
 * `identify` makes a batch durable in the log and queues it; an applier drains the queue into
 * the store in the background. `feedback` is logged and then applied at once, because the
 * person giving it must become visible now. Every write to the store goes through one serial
 * section, so a read-merge-write never interleaves with another. Checkpoints write the store
 * and trim the log; after a crash, `open` re-applies whatever the last checkpoint missed,
 * which is safe because every operation is idempotent.
 *
 * A log that applies each entry in its own transaction with the locks of the people it
 * touches (PostgreSQL, pg-log.ts) needs no serial section: feedback is applied beside the
 * queue, and each identify batch is split into entries of at most SHARED_ENTRY_ITEMS people,
 * which lock those people rather than the whole site, so that several collectors apply a
 * stream of large batches side by side. (Several entries at once in one process measured
 * slower on a 2-core machine with PostgreSQL on it: serialization conflicts, no idle CPU.)
 */
import { applyIdentity, type IdentifyItem } from '../core/identify.ts';
import { recordFeedback, type FeedbackItem } from '../core/feedback.ts';
import type { Feedback } from '../core/records.ts';
import { coerceIdentity, fieldDefs, type FieldWarning } from '../core/custom-fields.ts';
import type { CheckpointStore, Store } from '../store/types.ts';
import { applyAdminOp, isAdminOp, type AdminOp } from './admin-ops.ts';
import type { IntakeLog, LogEntry } from './log.ts';
import { Serial } from './serial.ts';

export interface IntakeOptions {
  store: CheckpointStore;
  log: IntakeLog;
  clock?: () => number;
  /** Identities waiting to be applied before new batches are refused with 503. */
  maxQueueDepth?: number;
  /** Checkpoint after this many applied entries, or every `checkpointMs`. */
  checkpointEvery?: number;
  checkpointMs?: number;
  onError?: (err: unknown) => void;
  /** Custom field values of an identity that did not fit their definition and were dropped. */
  onWarning?: (w: { site: string; message_id: string; warnings: FieldWarning[] }) => void;
}

/**
 * People per entry on a transactional log: 3 lock keys each (id, email, account) stay under
 * pg-log.ts's 64 keys, above which an entry locks its whole site and applies alone.
 */
export const SHARED_ENTRY_ITEMS = 20;

type IdentifyEntry = LogEntry & { op: 'identify'; site: string; items: IdentifyItem[] };
type FeedbackEntry = LogEntry & { op: 'feedback'; site: string; item: FeedbackItem };
type AdminEntry = LogEntry & AdminOp;
type Entry = IdentifyEntry | FeedbackEntry | AdminEntry;

export class QueueFullError extends Error {}

export class Intake {
  readonly serial = new Serial();
  private readonly queue: Entry[] = [];
  private queuedIdentities = 0;
  private appliedThrough: number;
  private sinceCheckpoint = 0;
  private running: Promise<void> | null = null;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private checkpointing: Promise<void> | null = null;
  private closed = false;
  /** Callers of `transact`, by the sequence number of their entry. */
  private readonly waiters = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly clock: () => number;

  constructor(private readonly o: IntakeOptions) {
    this.clock = o.clock ?? Date.now;
    this.appliedThrough = o.store.appliedSeq();
  }

  /** Re-applies what the log holds beyond the store's last checkpoint, then starts the timer. */
  async open(): Promise<void> {
    for (const entry of this.o.log.replay() as Entry[]) {
      if (entry.seq <= this.appliedThrough) continue;
      await this.apply(entry);
    }
    if (this.o.checkpointMs) {
      this.timer = setInterval(
        () =>
          void this.checkpoint()
            .then(() => this.adopt())
            .catch(this.o.onError),
        this.o.checkpointMs,
      );
      this.timer.unref();
    }
  }

  /** Identities acknowledged but not applied yet, by this process. */
  depth(): number {
    return this.queuedIdentities;
  }

  /** Identities acknowledged but not applied yet, by every process sharing the log (PostgreSQL). */
  async sharedDepth(): Promise<number> {
    return this.o.log.sharedDepth ? this.o.log.sharedDepth() : this.queuedIdentities;
  }

  /** Logs a batch durably and queues it; resolves once it is safe to answer 202. */
  async identify(site: string, items: IdentifyItem[]): Promise<void> {
    if (this.closed) throw new QueueFullError('shutting down');
    if (this.queuedIdentities + items.length > (this.o.maxQueueDepth ?? Infinity))
      throw new QueueFullError('apply queue is full');
    this.queuedIdentities += items.length;
    const parts: IdentifyItem[][] = [];
    const size = this.o.log.applyEntry ? SHARED_ENTRY_ITEMS : items.length;
    for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
    let entries: IdentifyEntry[];
    try {
      // Appended together, so group commit writes them in one statement (a failure between
      // two would fail the request: the client retries and message ids dedupe what was kept).
      entries = await Promise.all(
        parts.map((part) => this.o.log.append({ op: 'identify' as const, site, items: part })),
      );
    } catch (err) {
      this.queuedIdentities -= items.length;
      throw err;
    }
    this.queue.push(...entries);
    this.startDraining();
  }

  /** Logs feedback durably and applies it at once (promotion never waits for the queue). */
  async feedback(site: string, item: FeedbackItem): Promise<Feedback> {
    if (this.closed) throw new QueueFullError('shutting down');
    const existing = await this.o.store.getFeedbackByMessage(site, item.message_id);
    if (existing) return existing;
    item = await this.checkFields(site, item);
    const entry = await this.o.log.append({ op: 'feedback' as const, site, item });
    const feedback =
      (await this.guarded(() => this.inStore(entry, (store) => recordFeedback(store, site, item)))) ??
      (await this.o.store.getFeedbackByMessage(site, item.message_id))!;
    // The applier meets the entry again in log order; recording it twice is a no-op.
    this.queue.push(entry);
    this.startDraining();
    return feedback;
  }

  /**
   * Logs an admin write (import, erasure, custom fields) durably, queues it behind what was
   * acknowledged before it, and resolves with its result once applied: the caller answers
   * only then, so its data is both durable and visible.
   */
  async transact<T>(op: AdminOp): Promise<T> {
    if (this.closed) throw new QueueFullError('shutting down');
    const entry = await this.o.log.append(op);
    const applied = new Promise<T>((resolve, reject) =>
      this.waiters.set(entry.seq, { resolve: resolve as (v: unknown) => void, reject }),
    );
    this.queue.push(entry as AdminEntry);
    this.startDraining();
    return applied;
  }

  /** Feedback carries its author's identity: its custom fields are checked like an identify's. */
  private async checkFields(site: string, item: FeedbackItem): Promise<FeedbackItem> {
    if (!item.identity) return item;
    const { identity, warnings } = coerceIdentity(fieldDefs(await this.o.store.customFields(site)), item.identity);
    if (warnings.length) this.o.onWarning?.({ site, message_id: item.message_id, warnings });
    return { ...item, identity };
  }

  /** Runs a write that is not an intake entry (imports, deletions) in the serial section. */
  write<T>(fn: () => Promise<T>): Promise<T> {
    return this.guarded(fn);
  }

  /** Writes under the serial section, or directly where each entry is its own transaction. */
  private guarded<T>(fn: () => Promise<T>): Promise<T> {
    return this.o.log.applyEntry ? fn() : this.serial.run(fn);
  }

  private async apply(entry: Entry): Promise<unknown> {
    const now = this.clock();
    const result = await this.guarded(() =>
      this.inStore(entry, async (store) => {
        if (entry.op === 'identify') {
          const defs = fieldDefs(await store.customFields(entry.site));
          for (const item of entry.items) {
            const { identity, warnings } = coerceIdentity(defs, item.identity);
            if (warnings.length) this.o.onWarning?.({ site: entry.site, message_id: item.message_id, warnings });
            await applyIdentity(store, entry.site, { ...item, identity }, now);
          }
        } else if (entry.op === 'feedback') {
          await recordFeedback(store, entry.site, entry.item);
        } else if (isAdminOp(entry)) {
          return applyAdminOp(store, entry);
        }
        return undefined;
      }),
    );
    this.appliedThrough = entry.seq;
    this.sinceCheckpoint++;
    return result;
  }

  /** Runs `fn` on the store, or within the log's own transaction when it has one (pg-log.ts). */
  private inStore<T>(entry: LogEntry, fn: (store: Store) => Promise<T>): Promise<T | undefined> {
    return this.o.log.applyEntry ? this.o.log.applyEntry(entry, fn) : fn(this.o.store);
  }

  /** Queues what a shared log hands over from processes that died (pg-log.ts). */
  private async adopt(): Promise<void> {
    const entries = (await this.o.log.adopt?.()) ?? [];
    for (const entry of entries as Entry[]) {
      if (entry.op === 'identify') this.queuedIdentities += entry.items.length;
      this.queue.push(entry);
    }
    if (entries.length > 0) this.startDraining();
  }

  private startDraining() {
    if (this.draining) return;
    this.draining = true;
    this.running = this.drainLoop();
  }

  private async drainLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const entry = this.queue.shift()!;
        const waiter = this.waiters.get(entry.seq);
        this.waiters.delete(entry.seq);
        try {
          const result = await this.apply(entry);
          waiter?.resolve(result);
        } catch (err) {
          if (waiter) waiter.reject(err);
          else this.o.onError?.(err);
        } finally {
          if (entry.op === 'identify') this.queuedIdentities -= entry.items.length;
        }
        if (this.o.checkpointEvery && this.sinceCheckpoint >= this.o.checkpointEvery) await this.checkpoint();
        // Yield to the event loop so acknowledgements keep flowing while a backlog applies.
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.draining = false;
      this.running = null;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves when everything acknowledged so far has been applied. */
  async drained(): Promise<void> {
    while (this.draining) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  /** Writes the store as of the applied position and trims the log behind it. */
  checkpoint(): Promise<void> {
    this.checkpointing ??= this.doCheckpoint().finally(() => {
      this.checkpointing = null;
    });
    return this.checkpointing;
  }

  private async doCheckpoint(): Promise<void> {
    await this.o.log.rotate();
    const seq = this.appliedThrough;
    const write = await this.serial.run(() => this.o.store.prepareCheckpoint(seq));
    this.sinceCheckpoint = 0;
    await write();
    this.o.log.dropThrough(seq);
  }

  /** Stops accepting, applies what is queued, checkpoints and closes the log. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.drained();
    await this.checkpoint();
    await this.o.log.close();
  }
}
