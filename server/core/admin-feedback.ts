/**
 * Feedback a backend records through the admin API (docs/API.md#http-api, `POST
 * /api/v2/admin/feedback`): support tools, sales calls, history imports. Each item names its
 * author one way — an identity (merged at admin rank, as bulk_identify would), an external id,
 * a user id or an email — and is then recorded exactly as widget feedback is
 * (core/feedback.ts): a pending author is promoted and the feedback carries their account's
 * MRR at that moment.
 *
 * A batch is all or nothing. Every name is looked up before anything is written: a user id,
 * external id or idea id that names nothing fails the whole batch, and nothing is written.
 * The lookups run when the batch is applied, in log order, so an identity acknowledged before
 * the batch counts, and a replay of the log after a crash decides the same way.
 */
import { recordFeedback, type FeedbackItem } from './feedback.ts';
import type { Feedback } from './records.ts';
import type { Store } from './store.ts';

/** A name in a batch item that names nothing. */
export interface Missing {
  index: number;
  field: 'user_id' | 'external_id' | 'idea_id';
  message: string;
}

export type AdminFeedbackResult = { feedback: Feedback[] } | { missing: Missing[] };

/** Records a batch (items already validated, each naming its author once); idempotent by message id. */
export async function recordAdminFeedback(
  store: Store,
  site: string,
  items: FeedbackItem[],
): Promise<AdminFeedbackResult> {
  const missing: Missing[] = [];
  for (const [index, item] of items.entries()) {
    // Recorded before (a retry, a replay): the same feedback again, whatever has changed since.
    if (await store.getFeedbackByMessage(site, item.message_id)) continue;
    if (item.user_id !== undefined && !(await store.getUser(site, item.user_id)))
      missing.push({ index, field: 'user_id', message: 'no user with this id' });
    if (
      item.external_id !== undefined &&
      !(await store.getExternalUser(site, item.external_id)) &&
      !(await store.getPending(site, item.external_id))
    )
      missing.push({ index, field: 'external_id', message: 'no external user or identified person with this id' });
    if (item.idea_id !== undefined && !(await store.getIdea(site, item.idea_id)))
      missing.push({ index, field: 'idea_id', message: 'no idea with this id' });
  }
  if (missing.length > 0) return { missing };
  const feedback: Feedback[] = [];
  for (const item of items) feedback.push(await recordFeedback(store, site, await authorOf(store, site, item)));
  return { feedback };
}

/**
 * The item with its author in the form recordFeedback takes. An email names its user if there
 * is one, else the person most recently identified with it (still pending), else a new user,
 * as the widget's anonymous email does. A user speaks through the external user updated last:
 * its account is the one whose MRR the feedback records.
 */
async function authorOf(store: Store, site: string, item: FeedbackItem): Promise<FeedbackItem> {
  const { user_id, email, ...rest } = item;
  if (email !== undefined) {
    const user = await store.getUserByEmail(site, email);
    if (user) return throughUser(store, site, rest, user.id);
    const pendingId = await latestPending(store, site, email);
    return pendingId ? { ...rest, external_id: pendingId } : item;
  }
  if (user_id !== undefined) return throughUser(store, site, rest, user_id);
  return item;
}

async function throughUser(store: Store, site: string, rest: FeedbackItem, userId: string): Promise<FeedbackItem> {
  let latest: { external_id: string; updated_at: number } | undefined;
  for (const eu of await store.externalUsersOf(site, userId))
    if (!latest || eu.updated_at > latest.updated_at) latest = eu;
  return latest ? { ...rest, external_id: latest.external_id } : { ...rest, user_id: userId };
}

async function latestPending(store: Store, site: string, email: string): Promise<string | undefined> {
  let latest: { external_id: string; received_at: number } | undefined;
  for (const id of await store.pendingIdsByEmail(site, email)) {
    const p = await store.getPending(site, id);
    if (p && (!latest || p.received_at > latest.received_at)) latest = p;
  }
  return latest?.external_id;
}
