/**
 * Re-linking an external user to another user (docs/API.md#identify-semantics; `PUT
 * /api/v2/admin/external_users/:external_id/user`): an admin says which person an integrator's
 * record belongs to, as UserVoice lets one "set the user by id". The external user, and the
 * feedback it gave, move to that user. Nothing moves it back: identify, imports and feedback
 * all keep an existing external user with the user it is linked to, whatever its email
 * becomes. Applied in log order like every admin write, so a replay ends the same way.
 *
 * The user it leaves is deleted when nothing is left on it — no external user and no feedback
 * of its own — because a Parley user exists to hold the people and feedback behind it; one
 * that still has feedback (given with only an email) stays.
 */
import type { ExternalUser, User } from './records.ts';
import type { Store } from './store.ts';

export type Relinked =
  | { missing: 'external_id' | 'user_id' }
  | {
      externalUser: ExternalUser;
      user: User;
      previous: { id: string; deleted: boolean };
      feedbackMoved: number;
    };

/** Links `externalId` to `userId` at admin time `at`; linking it where it is changes nothing. */
export async function relinkExternalUser(
  store: Store,
  site: string,
  externalId: string,
  userId: string,
  at: number,
): Promise<Relinked> {
  const eu = await store.getExternalUser(site, externalId);
  if (!eu) return { missing: 'external_id' };
  const user = await store.getUser(site, userId);
  if (!user) return { missing: 'user_id' };
  const from = eu.user_id;
  if (from === userId) return { externalUser: eu, user, previous: { id: from, deleted: false }, feedbackMoved: 0 };

  // A new record, not the one read: a store that hands out its own (memory) must see the move.
  const moved: ExternalUser = { ...eu, user_id: userId, updated_at: Math.max(eu.updated_at, at) };
  await store.putExternalUser(moved);
  const feedbackMoved = await store.moveFeedback(site, externalId, from, userId);
  user.updated_at = Math.max(user.updated_at, at);
  await store.putUser(user);

  let deleted = false;
  const left = await store.getUser(site, from);
  if (left) {
    const empty =
      (await store.externalUsersOf(site, from)).length === 0 &&
      (await store.listUserFeedback(site, { userId: from, page: 1, perPage: 1 })).total === 0;
    if (empty) await store.deleteUser(site, from);
    else await store.putUser({ ...left, updated_at: Math.max(left.updated_at, at) });
    deleted = empty;
  }
  return { externalUser: moved, user, previous: { id: from, deleted }, feedbackMoved };
}
