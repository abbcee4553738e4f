/**
 * The store worker: a worker thread that owns the embedded engine's lowdb store and applies the
 * intake's durable entries to it, checkpoints it and prunes it, so that none of that work runs
 * on the thread that answers requests (README, Limits of the embedded store; docs/DESIGN.md).
 *
 * The request thread keeps the log: an entry reaches this worker only after it is durable, so
 * the worker holds nothing that a crash could lose; after one, the store is reopened from its
 * last checkpoint and the log replayed beyond it (embedded/index.ts).
 *
 * Work is done in slices: at most SLICE_MS of applying, then a turn of the event loop, so that
 * a read posted by the request thread (a listing, a lookup) waits for one slice at most, never
 * behind a backlog. Writes (entries, checkpoint captures, Store writes posted as calls) run one
 * at a time in `exclusive`; reads run between them. Each slice applies whole entries, and
 * every store method finishes without yielding to messages, so a read sees the store between
 * two entries, never inside one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { applyEntry, type Entry } from '../../core/apply-entry.ts';
import type { Store } from '../../core/store.ts';
import { LowdbStore } from './lowdb-store.ts';
import { toWire, type AppliedResult, type FromWorker, type ToWorker, type WorkerInit } from './protocol.ts';

/** Applying time per slice before the worker lets posted reads in. */
const SLICE_MS = 4;
/** Store methods that write: they queue behind the slice being applied. */
const WRITES = /^(put|delete|add|promote|move|detach|prune)/;
/** Store writes that change a site record, which the request thread keeps a copy of. */
const SITE_WRITES: Record<string, (args: unknown[]) => string> = {
  putSite: (args) => (args[0] as { key: string }).key,
  putCustomFields: (args) => args[0] as string,
  putSegment: (args) => args[0] as string,
};

interface Queued {
  entry: Entry;
  now: number;
  /** Applied in log order: it advances the applied position. */
  ordered: boolean;
  /** Its result is posted back (the ordered copy of a `first` entry was answered already). */
  answer: boolean;
}

/**
 * Tests only (test/server/store-worker.test.ts): the worker ends itself after applying this
 * many entries, as a crash of the worker alone would.
 */
const EXIT_AFTER = Number(process.env.PARLEY_TEST_WORKER_EXIT_AFTER) || 0;
let appliedCount = 0;

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (m: FromWorker) => port.postMessage(m);
/** The request thread's clock, as of the last message that carried it. */
let now = init.now;

/** One write at a time, in the order submitted; a failed task does not stop the chain. */
let tail: Promise<unknown> = Promise.resolve();
function exclusive<T>(task: () => Promise<T>): Promise<T> {
  const result = tail.then(task);
  tail = result.catch(() => undefined);
  return result;
}

async function main() {
  let lowdb: LowdbStore;
  try {
    lowdb = await LowdbStore.open(init.storeDir, () => now);
  } catch (err) {
    post({ t: 'failed', error: toWire(err) });
    return;
  }
  // Site writes are echoed to the request thread's copy of the sites before the write answers.
  // The three methods are wrapped on the instance, not behind a Proxy: a Proxy's trap would run
  // on every property the store's own methods read through `this`, on every apply.
  const methods = lowdb as unknown as Record<string, (...args: unknown[]) => Promise<void>>;
  for (const [name, keyOf] of Object.entries(SITE_WRITES)) {
    const write = methods[name].bind(lowdb);
    methods[name] = async (...args) => {
      await write(...args);
      const site = await lowdb.getSite(keyOf(args));
      if (site) post({ t: 'site', site });
    };
  }
  const store: Store = lowdb;

  let applied = lowdb.appliedSeq();
  const queue: Queued[] = [];
  let draining = false;

  const applySlice = async () => {
    const results: AppliedResult[] = [];
    const until = performance.now() + SLICE_MS;
    do {
      const q = queue.shift()!;
      now = Math.max(now, q.now);
      try {
        const value = await applyEntry(store, q.entry, q.now, (warning) => post({ t: 'warning', warning }));
        if (q.answer) results.push({ seq: q.entry.seq, ok: true, value });
      } catch (err) {
        // Reported to the caller (or logged by the request thread); the next entries still apply.
        if (q.answer) results.push({ seq: q.entry.seq, ok: false, error: toWire(err) });
      }
      if (q.ordered) applied = q.entry.seq;
      if (EXIT_AFTER && ++appliedCount >= EXIT_AFTER) process.exit(70);
    } while (queue.length > 0 && performance.now() < until);
    if (results.length > 0) post({ t: 'applied', results });
  };

  const drain = async () => {
    if (draining) return;
    draining = true;
    try {
      while (queue.length > 0) {
        await exclusive(applySlice);
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      draining = false;
    }
  };

  port.on('message', (m: ToWorker) => {
    if (m.t === 'apply') {
      const entries = m.lines.map((line) => JSON.parse(line) as Entry);
      const items = entries.map((entry) => ({ entry, now: m.now, ordered: true, answer: !m.first }));
      if (m.first) queue.unshift(...entries.map((entry) => ({ entry, now: m.now, ordered: false, answer: true })));
      queue.push(...items);
      void drain();
    } else if (m.t === 'call') {
      const fn = (store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[m.method];
      const run = () => fn.apply(store, m.args);
      (WRITES.test(m.method) ? exclusive(run) : run()).then(
        (value) => post({ t: 'ret', id: m.id, ok: true, value }),
        (err) => post({ t: 'ret', id: m.id, ok: false, error: toWire(err) }),
      );
    } else if (m.t === 'checkpoint') {
      now = Math.max(now, m.now);
      // The capture runs exclusively (no entry applies halfway into it); writing the files
      // does not, so applying goes on while they are written.
      exclusive(async () => {
        const seq = applied;
        return { seq, write: await lowdb.prepareCheckpoint(seq) };
      })
        .then(async ({ seq, write }) => {
          await write();
          post({ t: 'ret', id: m.id, ok: true, value: seq });
        })
        .catch((err) => post({ t: 'ret', id: m.id, ok: false, error: toWire(err) }));
    }
  });
  post({ t: 'ready', appliedSeq: applied, sites: await lowdb.listSites() });
}

void main();
