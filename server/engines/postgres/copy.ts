/**
 * Moving an embedded store into PostgreSQL (`parley migrate-store --from lowdb --to postgres`,
 * through engines/index.ts's copyStore): takes every record of the embedded store
 * (as that engine reads them, StoreRecords) and writes every record through the PostgreSQL store, in one
 * transaction, keeping each collection's order (listings show records in creation order).
 */
import type { StoreRecords } from '../../core/store.ts';
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

/** Copies an embedded store's records (checkpointed, collector stopped) into `pg`, which must be empty. */
export async function copyLowdbToPostgres(from: StoreRecords, pg: PostgresStore): Promise<Copied> {
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
    for (const s of from.sites) {
      await tx.putSite(s);
      n.sites++;
    }
    for (const u of from.users) {
      await tx.putUser(u);
      n.users++;
    }
    for (const eu of from.external_users) {
      await tx.putExternalUser(eu);
      n.external_users++;
    }
    for (const a of from.accounts) {
      await tx.putAccount(a);
      n.accounts++;
    }
    for (const i of from.ideas) {
      await tx.putIdea(i);
      n.ideas++;
    }
    for (const f of from.feedback) {
      await tx.putFeedback(f, null);
      n.feedback++;
    }
    for (const p of from.pending) {
      await tx.putPending(p);
      n.pending_identities++;
    }
    for (const a of from.pending_accounts) {
      await tx.putPendingAccount(a);
      n.pending_accounts++;
    }
    for (const [site, id, at] of from.messages) {
      await tx.addMessage(site, id, at);
      n.messages++;
    }
  });
  return n;
}
