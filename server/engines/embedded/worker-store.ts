/**
 * The request thread's side of the store worker (worker.ts): starts it, hands it durable
 * entries, and offers the Store port (core/store.ts) over messages, so routes and the core read
 * and write the store as before while it lives on another thread (README, Limits of the
 * embedded store).
 *
 * Site records are read on every request (by site key, by admin key hash) and by every feedback
 * (custom fields): the worker posts each site it changes, and this side answers those lookups
 * from its copy without a message. A site change is posted before the answer to the write that
 * made it, so a caller that awaited a write reads it back.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { OnWarning } from '../../core/apply-entry.ts';
import { FilterError } from '../../core/filters.ts';
import type { Site } from '../../core/records.ts';
import { BadCursor, type Store } from '../../core/store.ts';
import { CorruptStoreError } from './durable-file.ts';
import type { FromWorker, ToWorker, WireError, WorkerInit } from './protocol.ts';

/** Set by the node bundle's build (server/build-node.ts): the worker is then dist/store-worker.js. */
declare const __PARLEY_BUNDLE__: boolean | undefined;

/**
 * Starts worker.ts: bundled, as the bundle beside this one; from source (tests, benches, tsx),
 * as TypeScript through tsx's loader, registered inside the worker because Node 20 does not
 * carry `--import tsx` hooks into a worker's entry.
 */
function spawn(init: WorkerInit): Worker {
  if (typeof __PARLEY_BUNDLE__ !== 'undefined' && __PARLEY_BUNDLE__)
    return new Worker(join(import.meta.dirname, 'store-worker.js'), { workerData: init, execArgv: [] });
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: init, execArgv: [] });
}

/** An error from the worker as its class where callers tell classes apart, else a plain Error. */
function fromWire(e: WireError): Error {
  const err =
    e.name === 'BadCursor'
      ? new BadCursor(e.message)
      : e.name === 'FilterError'
        ? new FilterError(e.field ?? '', e.message)
        : e.name === 'CorruptStoreError'
          ? new CorruptStoreError(e.message)
          : new Error(e.message);
  return err;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class StoreWorker {
  /** The Store port, answered by the worker, site lookups from the copy here. */
  readonly store: Store;
  private readonly sites = new Map<string, Site>();
  private readonly calls = new Map<number, Pending>();
  /** Callers waiting for an applied entry, by its position. */
  private readonly entries = new Map<number, Pending>();
  private nextId = 1;
  private closing = false;
  private dead: Error | null = null;
  /** Where custom field values dropped while applying are reported. */
  onWarning: OnWarning = () => {};

  private constructor(
    private readonly worker: Worker,
    readonly appliedSeq: number,
    sites: Site[],
    onDeath: (err: Error) => void,
  ) {
    for (const s of sites) this.sites.set(s.key, s);
    worker.on('message', (m: FromWorker) => this.receive(m));
    const died = (err: Error) => {
      if (this.dead || this.closing) return;
      this.dead = err;
      // Every waiter fails now; what they waited for is durable in the log, so a restart applies it.
      for (const p of [...this.calls.values(), ...this.entries.values()]) p.reject(err);
      this.calls.clear();
      this.entries.clear();
      onDeath(err);
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`the store worker exited (code ${code})`)));
    const local: Partial<Store> = {
      listSites: async () => [...this.sites.values()],
      getSite: async (key) => this.sites.get(key),
      getSiteByAdminKeyHash: async (hash) => {
        for (const s of this.sites.values()) if (s.admin_key_hash === hash) return s;
        return undefined;
      },
      customFields: async (site) => this.sites.get(site)?.custom_fields ?? [],
      segments: async (site) => this.sites.get(site)?.segments ?? {},
    };
    this.store = new Proxy(local, {
      get: (target, name) =>
        typeof name !== 'string'
          ? undefined
          : (target[name as keyof Store] ?? ((...args: unknown[]) => this.call(name, args))),
    }) as Store;
  }

  /** Starts the worker on `storeDir`; resolves once the store is open (a corrupt file rejects, naming it). */
  static start(storeDir: string, now: number, onDeath: (err: Error) => void): Promise<StoreWorker> {
    const worker = spawn({ storeDir, now });
    return new Promise((resolve, reject) => {
      const early = (err: Error) => reject(err);
      const exited = (code: number) => reject(new Error(`the store worker exited (code ${code}) while opening`));
      worker.once('error', early);
      worker.once('exit', exited);
      worker.once('message', (m: FromWorker) => {
        worker.off('error', early);
        worker.off('exit', exited);
        if (m.t === 'ready') resolve(new StoreWorker(worker, m.appliedSeq, m.sites, onDeath));
        else {
          void worker.terminate();
          reject(m.t === 'failed' ? fromWire(m.error) : new Error(`the store worker said ${m.t} first`));
        }
      });
    });
  }

  private send(m: ToWorker) {
    if (this.dead) throw this.dead;
    this.worker.postMessage(m);
  }

  private call(method: string, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.send({ t: 'call', id, method, args });
      this.calls.set(id, { resolve, reject });
    });
  }

  private receive(m: FromWorker) {
    if (m.t === 'site') this.sites.set(m.site.key, m.site);
    else if (m.t === 'warning') this.onWarning(m.warning);
    else if (m.t === 'ret') {
      const p = this.calls.get(m.id);
      this.calls.delete(m.id);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(fromWire(m.error));
    } else if (m.t === 'applied') {
      for (const r of m.results) {
        const p = this.entries.get(r.seq);
        this.entries.delete(r.seq);
        if (r.ok) p?.resolve(r.value);
        else p?.reject(fromWire(r.error));
      }
    }
  }

  /**
   * Hands durable entries (their positions, and their log lines) to the worker, applied in the
   * order handed over; each promise resolves with its entry's result once applied. `first`: see
   * protocol.ts.
   */
  apply(seqs: number[], lines: string[], now: number, first = false): Promise<unknown>[] {
    const done = seqs.map(
      (seq) => new Promise<unknown>((resolve, reject) => this.entries.set(seq, { resolve, reject })),
    );
    try {
      this.send({ t: 'apply', lines, now, first });
    } catch (err) {
      for (const seq of seqs) this.entries.delete(seq);
      return seqs.map(() => Promise.reject(err));
    }
    return done;
  }

  /** Checkpoints the store through what the worker has applied; resolves with that log position. */
  checkpoint(now: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.send({ t: 'checkpoint', id, now });
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /** Stops the worker (after the intake closed: everything applied and checkpointed). */
  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}
