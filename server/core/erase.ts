/**
 * Erasing a person for privacy (docs/API.md#http-api, `DELETE /users/:id`): the user, every external
 * user attached to them, the accounts private to those external users, and every pending
 * identity carrying their email. Their feedback stays — it still counts for ideas and
 * accounts — but no longer points at anyone.
 *
 * The erasure is an intake log entry applied in log order, so identities acknowledged before
 * it are applied first and erased with the rest, both live and when the log is replayed after
 * a restart: nothing deleted comes back. Message ids already applied stay remembered, so a
 * widget retrying an old identity after the erasure is dropped as a duplicate.
 */
import { privateAccountKey } from './records.ts';
import type { Store } from './store.ts';

export interface Erased {
  users: number;
  external_users: number;
  pending_identities: number;
  accounts: number;
  feedback_detached: number;
}

/** Erases the user `userId`; applying it again (a replay) finds nothing and erases nothing. */
export async function eraseUser(store: Store, site: string, userId: string): Promise<Erased> {
  const erased: Erased = { users: 0, external_users: 0, pending_identities: 0, accounts: 0, feedback_detached: 0 };
  const user = await store.getUser(site, userId);
  if (!user) return erased;
  const privateKeys: string[] = [];
  const pendingIds = new Set(await store.pendingIdsByEmail(site, user.email));
  for (const eu of await store.externalUsersOf(site, userId)) {
    privateKeys.push(privateAccountKey(eu.external_id));
    pendingIds.add(eu.external_id);
    await store.deleteExternalUser(site, eu.external_id);
    erased.external_users++;
  }
  for (const id of pendingIds) {
    if (!(await store.getPending(site, id))) continue;
    privateKeys.push(privateAccountKey(id));
    await store.deletePending(site, id);
    erased.pending_identities++;
  }
  for (const key of new Set(privateKeys)) {
    if (await store.getAccount(site, key)) {
      await store.deleteAccount(site, key);
      erased.accounts++;
    }
    await store.deletePendingAccount(site, key);
  }
  erased.feedback_detached = await store.detachFeedback(site, userId, privateKeys);
  await store.deleteUser(site, userId);
  erased.users = 1;
  return erased;
}

/**
 * Erases whoever the integrator's id `externalId` names (a Segment `delete`, docs/API.md#the-v1-routes):
 * the user its external user is attached to, as eraseUser; or, when it is only pending, that
 * pending identity and its private account. Resolved when applied, in log order, so an identity
 * sent just before the deletion is erased with the rest.
 */
export async function eraseExternal(store: Store, site: string, externalId: string): Promise<Erased> {
  const eu = await store.getExternalUser(site, externalId);
  if (eu) return eraseUser(store, site, eu.user_id);
  const erased: Erased = { users: 0, external_users: 0, pending_identities: 0, accounts: 0, feedback_detached: 0 };
  if (!(await store.getPending(site, externalId))) return erased;
  await store.deletePending(site, externalId);
  await store.deletePendingAccount(site, privateAccountKey(externalId));
  erased.pending_identities = 1;
  return erased;
}
