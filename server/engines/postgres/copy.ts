/**
 * Moving an embedded store into PostgreSQL (`parley migrate-store --from lowdb --to postgres`,
 * through engines/index.ts's copyStore): reads the lowdb store's current files
 * (engines/embedded/lowdb-store.ts: a manifest naming one file per collection and
 * PENDING_SHARDS pending shards) and writes every record through the PostgreSQL store, in one
 * transaction, keeping each collection's order (listings show records in creation order).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Account, ExternalUser, Feedback, Idea, Pending, PendingAccount, Site, User } from '../../core/records.ts';
import type { PostgresStore } from './store.ts';

export interface Copied {
  sites: number;
  users: number;
  external_users: number;
  accounts: number;
  pending_identities: number;
  pending_accounts: number;
  messages: number;
  feedback: number;
  ideas: number;
}

interface Manifest {
  files: Record<string, string>;
}
interface ShardFile {
  pending: Pending[];
  accounts?: PendingAccount[];
  messages: [string, number][];
}

/** Copies the lowdb store in `storeDir` (checkpointed, collector stopped) into `pg`, which must be empty. */
export async function copyLowdbToPostgres(storeDir: string, pg: PostgresStore): Promise<Copied> {
  const manifest = JSON.parse(readFileSync(join(storeDir, 'manifest.json'), 'utf8')) as Manifest;
  const read = <T>(name: string, fallback: T): T => {
    const file = manifest.files[name];
    return file ? (JSON.parse(readFileSync(join(storeDir, file), 'utf8')) as T) : fallback;
  };
  const n: Copied = {
    sites: 0,
    users: 0,
    external_users: 0,
    accounts: 0,
    pending_identities: 0,
    pending_accounts: 0,
    messages: 0,
    feedback: 0,
    ideas: 0,
  };
  await pg.transaction({ shared: [], exclusive: ['migrate-store'] }, async (tx) => {
    const existing = Number((await tx.query<{ n: string }>('SELECT count(*) AS n FROM sites')).rows[0].n);
    if (existing > 0)
      throw new Error('the PostgreSQL database already holds sites; migrate-store only fills an empty one');
    for (const s of read<Site[]>('sites', [])) {
      await tx.putSite(s);
      n.sites++;
    }
    for (const u of read<User[]>('users', [])) {
      await tx.putUser(u);
      n.users++;
    }
    for (const eu of read<ExternalUser[]>('external_users', [])) {
      await tx.putExternalUser(eu);
      n.external_users++;
    }
    for (const a of read<Account[]>('accounts', [])) {
      await tx.putAccount(a);
      n.accounts++;
    }
    const fb = read<{ feedback: Feedback[]; ideas: Idea[] }>('feedback', { feedback: [], ideas: [] });
    for (const i of fb.ideas) {
      await tx.putIdea(i);
      n.ideas++;
    }
    for (const f of fb.feedback) {
      await tx.putFeedback(f, null);
      n.feedback++;
    }
    for (const name of Object.keys(manifest.files)
      .filter((k) => k.startsWith('pending-'))
      .sort()) {
      const shard = read<ShardFile>(name, { pending: [], messages: [] });
      for (const p of shard.pending) {
        await tx.putPending(p);
        n.pending_identities++;
      }
      for (const a of shard.accounts ?? []) {
        await tx.putPendingAccount(a);
        n.pending_accounts++;
      }
      for (const [key, at] of shard.messages) {
        const cut = key.indexOf('\u0000');
        await tx.addMessage(key.slice(0, cut), key.slice(cut + 1), at);
        n.messages++;
      }
    }
  });
  return n;
}
