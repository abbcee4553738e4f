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
 * That is the `serial` applier (core/intake-log.ts), the embedded engine's. An engine whose
 * entries are each applied in their own transaction with the locks of the people they touch
 * (`transactional`, PostgreSQL) needs no serial section and no checkpoints: feedback is
 * applied beside the queue, and each identify batch is split into entries of at most
 * `entryItems` people, which lock those people rather than the whole site, so that several
 * collectors apply a stream of large batches side by side. Where another thread owns the store
 * (`delegated`, the embedded engine's store worker), the intake hands each durable entry over
 * and the owner applies them in order: the queue, the serial section and the checkpoint's
 * capture are the owner's, and the intake only counts what is not applied yet. The engine
 * chooses its applier once, when it opens; the intake only follows it.
 */
import type { AdminOp } from '../core/admin-ops.ts';
import { applyEntry, type AdminEntry, type Entry, type IdentifyEntry, type OnWarning } from '../core/apply-entry.ts';
import type { IdentifyItem } from '../core/identify.ts';
import { recordFeedback, type FeedbackItem } from '../core/feedback.ts';
import type { Feedback } from '../core/records.ts';
import { coerceIdentity, fieldDefs } from '../core/custom-fields.ts';
import type { Applier, IntakeLog, LogEntry } from '../core/intake-log.ts';
import type { Store } from '../core/store.ts';
import { Serial } from './serial.ts';

/** What the intake is built from: an engine's store, log and applier (engines/engine.ts), and its limits. */
export interface IntakeOptions {
  store: Store;
  log: IntakeLog;
  applier: Applier;
  clock?: () => number;
  /**
   * Identities waiting to be applied before new batches are refused with 503 (the collector
   * passes PARLEY_MAX_QUEUE, DEFAULTS.maxQueue in config.ts; a command that takes no
   * identities, Infinity).
   */
  maxQueueDepth: number;
  onError?: (err: unknown) => void;
  /** Custom field values of an identity that did not fit their definition and were dropped. */
  onWarning?: OnWarning;
}

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
  /** Entries handed to a delegated applier and not applied yet. */
  private readonly handedOver = new Set<Promise<unknown>>();

  constructor(private readonly o: IntakeOptions) {
    this.clock = o.clock ?? Date.now;
    this.appliedThrough = o.applier.kind === 'transactional' ? 0 : o.applier.appliedSeq();
    if (o.applier.kind === 'delegated') o.applier.onWarning((w) => this.o.onWarning?.(w));
  }

  /**
   * Re-applies what the log holds beyond the store's last checkpoint, then starts the
   * applier's periodic work: checkpoints (serial) or adopting dead processes' entries
   * (transactional).
   */
  async open(): Promise<void> {
    const replay = (this.o.log.replay() as Entry[]).filter((e) => e.seq > this.appliedThrough);
    if (this.o.applier.kind === 'delegated') {
      // Counted like new batches: handOver takes them off the depth once applied.
      for (const e of replay) if (e.op === 'identify') this.queuedIdentities += e.items.length;
      await Promise.all(this.handOver(replay));
    } else {
      for (const entry of replay) await this.apply(entry);
    }
    const a = this.o.applier;
    const every = a.kind === 'transactional' ? a.adoptMs : a.checkpointMs;
    if (every) {
      const work = a.kind === 'transactional' ? () => this.adopt() : () => this.checkpoint();
      this.timer = setInterval(() => void work().catch(this.o.onError), every);
      this.timer.unref();
    }
  }

  /** Identities acknowledged but not applied yet, by this process. */
  depth(): number {
    return this.queuedIdentities;
  }

  /** Identities acknowledged but not applied yet, by every process sharing the log (PostgreSQL). */
  async sharedDepth(): Promise<number> {
    return this.o.applier.kind === 'transactional' ? this.o.applier.sharedDepth() : this.queuedIdentities;
  }

  /** Logs a batch durably and queues it; resolves once it is safe to answer 202. */
  async identify(site: string, items: IdentifyItem[]): Promise<void> {
    if (this.closed) throw new QueueFullError('shutting down');
    if (this.queuedIdentities + items.length > this.o.maxQueueDepth) throw new QueueFullError('apply queue is full');
    this.queuedIdentities += items.length;
    const parts: IdentifyItem[][] = [];
    const size = this.o.applier.kind === 'transactional' ? this.o.applier.entryItems : items.length;
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
    if (this.o.applier.kind === 'delegated') {
      this.handOver(entries).forEach((applied) => applied.catch(this.o.onError));
      return;
    }
    this.queue.push(...entries);
    this.startDraining();
  }

  /**
   * Hands entries to a delegated applier; each promise settles when its entry is applied, after
   * the intake has counted it (identities leave the queue depth, checkpoints come due).
   */
  private handOver(entries: Entry[], first = false): Promise<unknown>[] {
    const a = this.o.applier;
    if (a.kind !== 'delegated') throw new Error('not a delegated applier');
    return a.apply(entries, this.clock(), first).map((p, i) => {
      const entry = entries[i];
      const done = p.finally(() => {
        this.handedOver.delete(done);
        if (entry.op === 'identify') this.queuedIdentities -= entry.items.length;
        if (first) return;
        this.appliedThrough = Math.max(this.appliedThrough, entry.seq);
        if (a.checkpointEvery && ++this.sinceCheckpoint >= a.checkpointEvery)
          void this.checkpoint().catch(this.o.onError);
      });
      // Failures reach the caller through `done`; this copy only keeps `drained` from rejecting.
      this.handedOver.add(done);
      done.catch(() => undefined);
      return done;
    });
  }

  /** Logs feedback durably and applies it at once (promotion never waits for the queue). */
  async feedback(site: string, item: FeedbackItem): Promise<Feedback> {
    if (this.closed) throw new QueueFullError('shutting down');
    const existing = await this.o.store.getFeedbackByMessage(site, item.message_id);
    if (existing) return existing;
    item = await this.checkFields(site, item);
    const entry = await this.o.log.append({ op: 'feedback' as const, site, item });
    if (this.o.applier.kind === 'delegated') {
      const [applied] = this.handOver([entry], true);
      return (
        ((await applied) as Feedback | undefined) ?? (await this.o.store.getFeedbackByMessage(site, item.message_id))!
      );
    }
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
    if (this.o.applier.kind === 'delegated') return (await this.handOver([entry as Entry])[0]) as T;
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

  /**
   * Runs a write that is not an intake entry (pruning) or a multi-read plan (dry runs) in the
   * serial section. Where a delegated applier owns the store, each store call `fn` makes is
   * already one step of that owner's serial order, between two entries.
   */
  write<T>(fn: () => Promise<T>): Promise<T> {
    return this.guarded(fn);
  }

  /** Writes under the serial section, or directly where each entry is its own transaction. */
  private guarded<T>(fn: () => Promise<T>): Promise<T> {
    return this.o.applier.kind === 'serial' ? this.serial.run(fn) : fn();
  }

  private async apply(entry: Entry): Promise<unknown> {
    const now = this.clock();
    const result = await this.guarded(() =>
      this.inStore(entry, (store) => applyEntry(store, entry, now, this.o.onWarning)),
    );
    this.appliedThrough = entry.seq;
    this.sinceCheckpoint++;
    return result;
  }

  /** Runs `fn` on the store, or within the entry's own transaction when the applier has them. */
  private inStore<T>(entry: LogEntry, fn: (store: Store) => Promise<T>): Promise<T | undefined> {
    return this.o.applier.kind === 'transactional' ? this.o.applier.apply(entry, fn) : fn(this.o.store);
  }

  /** Queues what a shared log hands over from processes that died (transactional appliers only). */
  private async adopt(): Promise<void> {
    if (this.o.applier.kind !== 'transactional') return;
    const entries = await this.o.applier.adopt();
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
        const a = this.o.applier;
        if (a.kind === 'serial' && a.checkpointEvery && this.sinceCheckpoint >= a.checkpointEvery)
          await this.checkpoint();
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
    while (this.handedOver.size > 0) await Promise.allSettled([...this.handedOver]);
  }

  /**
   * Writes the store as of the applied position and trims the log behind it. A transactional
   * applier has nothing to write: every entry was committed as it was applied.
   */
  checkpoint(): Promise<void> {
    this.checkpointing ??= this.doCheckpoint().finally(() => {
      this.checkpointing = null;
    });
    return this.checkpointing;
  }

  private async doCheckpoint(): Promise<void> {
    const a = this.o.applier;
    if (a.kind === 'delegated') {
      this.sinceCheckpoint = 0;
      return a.checkpoint(this.clock());
    }
    if (a.kind !== 'serial') return;
    await a.rotateLog();
    const seq = this.appliedThrough;
    const write = await this.serial.run(() => a.prepareCheckpoint(seq));
    this.sinceCheckpoint = 0;
    await write();
    a.dropLogThrough(seq);
  }

  /** Stops accepting, applies what is queued and checkpoints. The engine closes the log after. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.drained();
    await this.checkpoint();
  }
}
