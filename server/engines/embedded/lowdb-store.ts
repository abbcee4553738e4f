/**
 * The embedded store: the memory store, checkpointed to JSON files with lowdb.
 *
 * lowdb rewrites a whole file on every write, so the data is split into files that are
 * written only when they changed: one per visible collection, and the pending store (by far
 * the largest, docs/DESIGN.md#measured-facts) in PENDING_SHARDS shards by key. A checkpoint writes the changed
 * files under new names, then atomically replaces `manifest.json`, which names the current
 * file of each collection and the log position they reflect. A crash at any point leaves the
 * previous manifest and its files intact; the intake log covers everything after it.
 */
import { Low } from 'lowdb';
import { existsSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Account, ExternalUser, Feedback, Idea, Pending, PendingAccount, Site, User } from '../../core/records.ts';
import { DurableJSONFile } from './durable-file.ts';
import { MemoryStore, type Collection } from './memory-store.ts';

export const PENDING_SHARDS = 16;

interface Manifest {
  version: 1;
  applied_seq: number;
  generation: number;
  files: Record<string, string>;
}
interface FeedbackFile {
  feedback: Feedback[];
  ideas: Idea[];
}
interface ShardFile {
  pending: Pending[];
  accounts?: PendingAccount[];
  /** Written by versions before message-window.ts; read, never written. */
  messages?: [string, number][];
}
/** Client message ids by the start of their time bucket (message-window.ts). */
type MessagesFile = [number, string[]][];

const MANIFEST = 'manifest.json';

function shardOf(key: string): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % PENDING_SHARDS;
}

const shardName = (n: number) => `pending-${String(n).padStart(2, '0')}`;

export class LowdbStore extends MemoryStore {
  private manifest: Manifest = { version: 1, applied_seq: 0, generation: 0, files: {} };
  private dirty = new Set<string>();
  private generation = 0;

  private constructor(
    private readonly dir: string,
    private readonly clock: () => number,
  ) {
    super();
  }

  /** Opens (or creates) the store in `dir`; a corrupt file throws CorruptStoreError. */
  static async open(dir: string, clock: () => number = Date.now): Promise<LowdbStore> {
    mkdirSync(dir, { recursive: true });
    const store = new LowdbStore(dir, clock);
    await store.load();
    return store;
  }

  private async readFile<T>(name: string, fallback: T): Promise<T> {
    const file = this.manifest.files[name];
    if (!file) return fallback;
    const db = new Low<T>(new DurableJSONFile<T>(join(this.dir, file)), fallback);
    await db.read();
    return db.data;
  }

  private async load() {
    const m = new Low<Manifest | null>(new DurableJSONFile(join(this.dir, MANIFEST)), null);
    await m.read();
    if (m.data) this.manifest = m.data;
    this.seq = this.manifest.applied_seq;
    this.generation = this.manifest.generation;

    for (const s of await this.readFile<Site[]>('sites', [])) this.sites.set(s.key, s);
    for (const u of await this.readFile<User[]>('users', [])) this.putUserSync(u);
    for (const eu of await this.readFile<ExternalUser[]>('external_users', [])) this.putExternalUserSync(eu);
    for (const a of await this.readFile<Account[]>('accounts', [])) this.putAccountSync(a);
    const fb = await this.readFile<FeedbackFile>('feedback', { feedback: [], ideas: [] });
    for (const i of fb.ideas) this.ideas.set(`${i.site}\u0000${i.id}`, i);
    for (const f of fb.feedback) this.putFeedbackSync(f, null);
    for (let n = 0; n < PENDING_SHARDS; n++) {
      const shard = await this.readFile<ShardFile>(shardName(n), { pending: [], messages: [] });
      for (const p of shard.pending) this.pending.set(`${p.site}\u0000${p.external_id}`, p);
      for (const a of shard.accounts ?? []) this.pendingAccounts.set(`${a.site}\u0000${a.key}`, a);
      for (const [key, at] of shard.messages ?? []) this.messages.add(key, at);
    }
    for (const [start, keys] of await this.readFile<MessagesFile>('messages', [])) this.messages.load(start, keys);
    this.messages.expire(this.clock());
    this.dirty.clear();
    this.removeStrays();
  }

  /** Files left by a checkpoint that crashed before its manifest was written. */
  private removeStrays() {
    const live = new Set([MANIFEST, ...Object.values(this.manifest.files)]);
    for (const name of readdirSync(this.dir)) {
      if (name.endsWith('.json') && !live.has(name)) unlinkSync(join(this.dir, name));
      else if (name.endsWith('.tmp')) unlinkSync(join(this.dir, name));
    }
  }

  protected override touched(collection: Collection, key: string): void {
    this.dirty.add(collection === 'pending' ? shardName(shardOf(key)) : collection);
  }

  private collect(name: string): unknown {
    switch (name) {
      case 'sites':
        return [...this.sites.values()];
      case 'users':
        return [...this.users.values()];
      case 'external_users':
        return [...this.externalUsers.values()];
      case 'accounts':
        return [...this.accounts.values()];
      case 'messages':
        this.messages.expire(this.clock());
        return this.messages.starts().map((start) => [start, this.messages.keysOf(start)]) satisfies MessagesFile;
      case 'feedback':
        return { feedback: [...this.feedback.values()], ideas: [...this.ideas.values()] } satisfies FeedbackFile;
      default: {
        const n = Number(name.slice('pending-'.length));
        const shard: ShardFile = { pending: [], accounts: [] };
        for (const [key, p] of this.pending) if (shardOf(key) === n) shard.pending.push(p);
        for (const [key, a] of this.pendingAccounts) if (shardOf(key) === n) shard.accounts!.push(a);
        return shard;
      }
    }
  }

  override async prepareCheckpoint(seq: number): Promise<() => Promise<void>> {
    this.seq = seq;
    const names = [...this.dirty];
    this.dirty.clear();
    // The caller holds the serial section, so nothing changes while we serialize; yielding
    // between files lets acknowledgements keep flowing instead of stalling for the whole store.
    const payloads: (readonly [string, string])[] = [];
    for (const name of names) {
      payloads.push([name, JSON.stringify(this.collect(name))]);
      await new Promise<void>((r) => setImmediate(r));
    }
    return async () => {
      try {
        await this.writeCheckpoint(seq, payloads);
      } catch (err) {
        for (const name of names) this.dirty.add(name);
        throw err;
      }
    };
  }

  private async writeCheckpoint(seq: number, payloads: (readonly [string, string])[]) {
    const gen = ++this.generation;
    const next: Manifest = { version: 1, applied_seq: seq, generation: gen, files: { ...this.manifest.files } };
    for (const [name, json] of payloads) {
      const file = `${name}.${gen}.json`;
      await new DurableJSONFile(join(this.dir, file)).writeText(json);
      next.files[name] = file;
    }
    await new Low<Manifest>(new DurableJSONFile(join(this.dir, MANIFEST)), next).write();
    const old = this.manifest;
    this.manifest = next;
    for (const [name, file] of Object.entries(old.files)) {
      if (next.files[name] !== file && existsSync(join(this.dir, file))) unlinkSync(join(this.dir, file));
    }
  }
}
