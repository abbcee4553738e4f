/**
 * The embedded store: the memory store, checkpointed to JSON files with lowdb, so that a
 * checkpoint costs what changed since the last one, not what exists (README, Limits of the
 * embedded store).
 *
 * The files: a base (every collection as chunks of CHUNK_RECORDS `[key, record]` pairs, in the
 * collection's Map order, which is creation order, the order listings show) and after it a list
 * of deltas, one per checkpoint, each holding only the records touched since the checkpoint
 * before (deleted keys, then written records), in parts of at most CHUNK_RECORDS records.
 * Pending identities and accounts are written as the packed string the memory store keeps
 * (packed-records.ts), and read back as that string: no object per record on either side.
 * `manifest.json` names the base chunks and the deltas in order, and the log position they
 * reflect. Opening reads the base, then applies the
 * deltas in order. When the deltas together outgrow the base (or there are MAX_DELTAS of them),
 * a checkpoint writes a fresh base instead, so reading a store stays within about twice its size
 * and the rewriting a merge does is paid for by at least as many bytes of change.
 *
 * Every file is written under a new name (temp file, fsync, rename, fsync the directory), and
 * only then is the manifest atomically replaced: a crash at any point leaves the previous
 * manifest and every file it names intact; the intake log covers everything after it. A file
 * the manifest names that is missing or not JSON stops start-up naming it (never an empty store).
 */
import { Low } from 'lowdb';
import { existsSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Account, ExternalUser, Feedback, Idea, Pending, PendingAccount, Site, User } from '../../core/records.ts';
import { CorruptStoreError, DurableJSONFile } from './durable-file.ts';
import { MemoryStore, splitKey, type Collection } from './memory-store.ts';
import { packPending, packPendingAccount, unpackPending, unpackPendingAccount } from './packed-records.ts';
import type { StoreRecords } from '../../core/store.ts';

/** Records per base chunk: serializing one is a few ms, so a merge yields to requests often. */
export const CHUNK_RECORDS = 4096;
/** Deltas before a merge even when they are small (opening reads each one). */
export const MAX_DELTAS = 256;
/** Below this many bytes of deltas, no merge (a small store would otherwise merge every time). */
export const MERGE_MIN_BYTES = 4 * 1024 * 1024;
/** Serialized records between two yields to the event loop while a checkpoint captures. */
const YIELD_EVERY = 2048;

/** Collections in the order they are loaded (a feedback's idea before the feedback). */
const COLLECTIONS: readonly Collection[] = [
  'sites',
  'users',
  'external_users',
  'accounts',
  'ideas',
  'feedback',
  'pending',
  'pending_accounts',
  'messages',
];

/**
 * Version 3 keeps pending identities and accounts packed (packed-records.ts); version 2 had them
 * as objects and is otherwise the same, so it is read as it is and its next checkpoint writes 3.
 * A Parley that knows only 2 refuses a 3 rather than misreading its pending records.
 */
interface Manifest {
  version: 2 | 3;
  applied_seq: number;
  generation: number;
  /** Each collection's base chunks, in order. */
  base: Partial<Record<Collection, string[]>>;
  base_bytes: number;
  deltas: string[];
  delta_bytes: number;
}
type Pair = [string, unknown];
interface DeltaFile {
  seq: number;
  removed: Partial<Record<Collection, string[]>>;
  put: Partial<Record<Collection, Pair[]>>;
}

/** The format before deltas (one file per collection, pending in 16 shards); read, then merged. */
interface ManifestV1 {
  version: 1;
  applied_seq: number;
  generation: number;
  files: Record<string, string>;
}
interface ShardFileV1 {
  pending: Pending[];
  accounts?: PendingAccount[];
  messages?: [string, number][];
}

/** How a checkpoint reads one collection, and how opening writes it back. */
interface Table {
  entries(): Iterable<Pair>;
  get(key: string): unknown;
  put(key: string, value: unknown): void;
  remove(key: string): void;
}

const MANIFEST = 'manifest.json';
const tick = () => new Promise<void>((r) => setImmediate(r));

export class LowdbStore extends MemoryStore {
  private manifest: Manifest = {
    version: 3,
    applied_seq: 0,
    generation: 0,
    base: {},
    base_bytes: 0,
    deltas: [],
    delta_bytes: 0,
  };
  /** Keys written since the last checkpoint, per collection, in first-write order. */
  private dirty = new Map<Collection, Set<string>>();
  /** Keys deleted since the last checkpoint (a key deleted, then written again, is in both). */
  private removed = new Map<Collection, Set<string>>();
  /** The next checkpoint writes a whole base (after the old format, or a failed write). */
  private mustMerge = false;
  private loading = false;
  private readonly tables: Record<Collection, Table>;

  private constructor(
    private readonly dir: string,
    private readonly clock: () => number,
  ) {
    super();
    const map = <V>(m: Map<string, V>, put: (v: V) => void, remove: (key: string) => void): Table => ({
      entries: () => m.entries(),
      get: (key) => m.get(key),
      put: (_key, v) => put(v as V),
      remove,
    });
    this.tables = {
      sites: map(
        this.sites,
        (s) => this.sites.set(s.key, s),
        (key) => this.sites.delete(key),
      ),
      users: map(
        this.users,
        (u) => this.putUserSync(u),
        (key) => void this.deleteUser(...splitKey(key)),
      ),
      external_users: map(
        this.externalUsers,
        (eu) => this.putExternalUserSync(eu),
        (key) => void this.deleteExternalUser(...splitKey(key)),
      ),
      accounts: map(
        this.accounts,
        (a) => this.putAccountSync(a),
        (key) => void this.deleteAccount(...splitKey(key)),
      ),
      ideas: map(
        this.ideas,
        (i) => this.ideas.set(`${i.site}\u0000${i.id}`, i),
        (key) => this.ideas.delete(key),
      ),
      feedback: map(
        this.feedback,
        (f) => this.putFeedbackSync(f, null),
        (key) => this.feedback.delete(key),
      ),
      // Kept packed (packed-records.ts) and written as the string they are; a file of version
      // 2 holds them as objects, packed as they are read.
      pending: {
        entries: () => this.pending.entries(),
        get: (key) => this.pending.get(key),
        put: (key, p) => this.pending.set(key, typeof p === 'string' ? p : packPending(p as Pending)),
        remove: (key) => this.deletePendingSync(...splitKey(key)),
      },
      pending_accounts: {
        entries: () => this.pendingAccounts.entries(),
        get: (key) => this.pendingAccounts.get(key),
        put: (key, a) =>
          this.pendingAccounts.set(key, typeof a === 'string' ? a : packPendingAccount(a as PendingAccount)),
        remove: (key) => this.deletePendingAccountSync(...splitKey(key)),
      },
      messages: {
        entries: () => this.messages.entries(),
        get: (key) => this.messages.bucketOf(key),
        put: (key, start) => this.messages.load(start as number, [key]),
        remove: () => {},
      },
    };
  }

  /** Opens (or creates) the store in `dir`; a corrupt or missing file throws CorruptStoreError naming it. */
  static async open(dir: string, clock: () => number = Date.now): Promise<LowdbStore> {
    mkdirSync(dir, { recursive: true });
    const store = new LowdbStore(dir, clock);
    store.loading = true;
    try {
      await store.load();
    } finally {
      store.loading = false;
    }
    return store;
  }

  private async readFile<T>(file: string): Promise<T> {
    const path = join(this.dir, file);
    if (!existsSync(path))
      throw new CorruptStoreError(
        `store file ${path} named by ${join(this.dir, MANIFEST)} is missing; restore the store directory from a backup (Parley will not start without it)`,
      );
    const db = new Low<T | null>(new DurableJSONFile<T | null>(path), null);
    await db.read();
    if (db.data === null) throw new CorruptStoreError(`store file ${path} is empty`);
    return db.data;
  }

  private async load() {
    const m = new Low<Manifest | ManifestV1 | null>(new DurableJSONFile(join(this.dir, MANIFEST)), null);
    await m.read();
    if (m.data?.version === 1) await this.loadV1(m.data);
    else if (m.data) {
      if (m.data.version !== 2 && m.data.version !== 3)
        throw new CorruptStoreError(
          `${join(this.dir, MANIFEST)} has version ${(m.data as { version: unknown }).version}, unknown to this Parley`,
        );
      this.manifest = m.data;
      for (const c of COLLECTIONS) {
        const t = this.tables[c];
        for (const file of this.manifest.base[c] ?? [])
          for (const [k, v] of await this.readFile<Pair[]>(file)) t.put(k, v);
      }
      for (const file of this.manifest.deltas) {
        const d = await this.readFile<DeltaFile>(file);
        for (const c of COLLECTIONS) {
          const t = this.tables[c];
          for (const k of d.removed[c] ?? []) t.remove(k);
          for (const [k, v] of d.put[c] ?? []) t.put(k, v);
        }
      }
    }
    this.seq = this.manifest.applied_seq;
    this.messages.expire(this.clock());
    this.removeStrays();
  }

  private async loadV1(v1: ManifestV1) {
    const read = <T>(name: string, fallback: T) => (v1.files[name] ? this.readFile<T>(v1.files[name]) : fallback);
    for (const s of await read<Site[]>('sites', [])) this.sites.set(s.key, s);
    for (const u of await read<User[]>('users', [])) this.putUserSync(u);
    for (const eu of await read<ExternalUser[]>('external_users', [])) this.putExternalUserSync(eu);
    for (const a of await read<Account[]>('accounts', [])) this.putAccountSync(a);
    const fb = await read<{ feedback: Feedback[]; ideas: Idea[] }>('feedback', { feedback: [], ideas: [] });
    for (const i of fb.ideas) this.ideas.set(`${i.site}\u0000${i.id}`, i);
    for (const f of fb.feedback) this.putFeedbackSync(f, null);
    for (const name of Object.keys(v1.files).filter((n) => n.startsWith('pending-'))) {
      const shard = await read<ShardFileV1>(name, { pending: [] });
      for (const p of shard.pending) this.pending.set(`${p.site}\u0000${p.external_id}`, packPending(p));
      for (const a of shard.accounts ?? []) this.pendingAccounts.set(`${a.site}\u0000${a.key}`, packPendingAccount(a));
      for (const [key, at] of shard.messages ?? []) this.messages.add(key, at);
    }
    for (const [start, keys] of await read<[number, string[]][]>('messages', [])) this.messages.load(start, keys);
    // The old files stay named by the manifest until the first checkpoint writes a base.
    this.manifest = {
      version: 3,
      applied_seq: v1.applied_seq,
      generation: v1.generation,
      base: { sites: Object.values(v1.files) } as Manifest['base'],
      base_bytes: 0,
      deltas: [],
      delta_bytes: 0,
    };
    this.mustMerge = true;
  }

  /** Files left by a checkpoint that crashed before its manifest was written. */
  private removeStrays() {
    const live = new Set([MANIFEST, ...this.liveFiles(this.manifest)]);
    for (const name of readdirSync(this.dir)) {
      if ((name.endsWith('.json') && !live.has(name)) || name.endsWith('.tmp')) unlinkSync(join(this.dir, name));
    }
  }

  private liveFiles(m: Manifest): string[] {
    return [...Object.values(m.base).flat(), ...m.deltas];
  }

  protected override touched(collection: Collection, key: string, gone = false): void {
    if (this.loading) return;
    const of = (m: Map<Collection, Set<string>>) => {
      let set = m.get(collection);
      if (!set) m.set(collection, (set = new Set()));
      return set;
    };
    if (gone) {
      of(this.removed).add(key);
      this.dirty.get(collection)?.delete(key);
    } else of(this.dirty).add(key);
  }

  /** Whether the next checkpoint writes a fresh base rather than a delta. */
  private mergeDue(): boolean {
    const m = this.manifest;
    return this.mustMerge || m.deltas.length >= MAX_DELTAS || m.delta_bytes >= Math.max(MERGE_MIN_BYTES, m.base_bytes);
  }

  /**
   * Captures what the checkpoint writes, serialized now (records are live objects the next
   * write may change), yielding to the event loop every YIELD_EVERY records so that requests
   * are answered meanwhile. The caller holds the serial section, so no write interleaves.
   */
  override async prepareCheckpoint(seq: number): Promise<() => Promise<void>> {
    this.seq = seq;
    const merge = this.mergeDue();
    this.mustMerge = false;
    const dirty = this.dirty;
    const removed = this.removed;
    this.dirty = new Map();
    this.removed = new Map();
    this.messages.expire(this.clock());
    const gen = this.manifest.generation + 1;
    const files: [string, string][] = [];
    let n = 0;
    const pace = async () => {
      if (++n % YIELD_EVERY === 0) await tick();
    };
    if (merge) {
      for (const c of COLLECTIONS) {
        let chunk: string[] = [];
        const flush = () => {
          files.push([`${c}.${gen}.${files.length}.json`, `[${chunk.join(',')}]`]);
          chunk = [];
        };
        for (const pair of this.tables[c].entries()) {
          chunk.push(JSON.stringify(pair));
          if (chunk.length === CHUNK_RECORDS) flush();
          await pace();
        }
        if (chunk.length) flush();
      }
    } else if (dirty.size || removed.size) {
      // Deleted keys first, then written records in order, split into parts of at most
      // CHUNK_RECORDS records so that no one string grows past what V8 can hold.
      let gone: string[] = [];
      for (const c of COLLECTIONS) {
        const keys = [...(removed.get(c) ?? [])];
        if (keys.length) gone.push(`${JSON.stringify(c)}:${JSON.stringify(keys)}`);
      }
      let put: string[] = [];
      let pairs: string[] = [];
      let count = 0;
      const part = () => {
        files.push([
          `delta.${gen}.${files.length}.json`,
          `{"seq":${seq},"removed":{${gone.join(',')}},"put":{${put.join(',')}}}`,
        ]);
        gone = [];
        put = [];
        count = 0;
      };
      for (const c of COLLECTIONS) {
        const t = this.tables[c];
        const close = () => {
          if (pairs.length) put.push(`${JSON.stringify(c)}:[${pairs.join(',')}]`);
          pairs = [];
        };
        for (const key of dirty.get(c) ?? []) {
          const v = t.get(key);
          if (v !== undefined) pairs.push(JSON.stringify([key, v]));
          if (++count === CHUNK_RECORDS) {
            close();
            part();
          }
          await pace();
        }
        close();
      }
      if (put.length || gone.length || files.length === 0) part();
    }
    return async () => {
      try {
        await this.writeCheckpoint(seq, gen, merge, files);
      } catch (err) {
        // What was captured is in no file: the next checkpoint writes everything.
        this.mustMerge = true;
        throw err;
      }
    };
  }

  private async writeCheckpoint(seq: number, gen: number, merge: boolean, files: [string, string][]) {
    let bytes = 0;
    for (const [name, text] of files) {
      await new DurableJSONFile(join(this.dir, name)).writeText(text);
      bytes += text.length;
    }
    const old = this.manifest;
    const next: Manifest = merge
      ? { version: 3, applied_seq: seq, generation: gen, base: {}, base_bytes: bytes, deltas: [], delta_bytes: 0 }
      : {
          ...old,
          version: 3,
          applied_seq: seq,
          generation: gen,
          deltas: [...old.deltas],
          delta_bytes: old.delta_bytes + bytes,
        };
    if (merge) {
      for (const [name] of files) {
        const c = name.slice(0, name.indexOf('.')) as Collection;
        (next.base[c] ??= []).push(name);
      }
    } else next.deltas.push(...files.map(([name]) => name));
    await new Low<Manifest>(new DurableJSONFile(join(this.dir, MANIFEST)), next).write();
    this.manifest = next;
    const live = new Set(this.liveFiles(next));
    for (const file of this.liveFiles(old)) {
      if (!live.has(file) && existsSync(join(this.dir, file))) unlinkSync(join(this.dir, file));
    }
  }

  /** Every record, in creation order (migrate-store copies it into PostgreSQL). */
  dump(): StoreRecords {
    return {
      sites: [...this.sites.values()],
      users: [...this.users.values()],
      external_users: [...this.externalUsers.values()],
      accounts: [...this.accounts.values()],
      ideas: [...this.ideas.values()],
      feedback: [...this.feedback.values()],
      pending: [...this.pending].map(([key, p]) => unpackPending(...splitKey(key), p)),
      pending_accounts: [...this.pendingAccounts].map(([key, a]) => unpackPendingAccount(...splitKey(key), a)),
      messages: [...this.messages.entries()].map(([key, at]) => [...splitKey(key), at] as [string, string, number]),
    };
  }
}
