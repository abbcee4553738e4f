/**
 * Records as the admin API answers them together with the records they link to, each linked
 * record looked up once per answer: feedback with its user, external user and account;
 * external users with their account.
 */
import { accountKeysOf, type Account, type ExternalUser, type Feedback, type User } from '../core/records.ts';
import type { Response } from 'express';
import type { Cursor, Page, Store } from '../core/store.ts';
import { allPages, feedbackCells, FEEDBACK_COLUMNS, sendCsv } from '../http/export.ts';
import { presentExternalUser, presentFeedback } from '../http/present.ts';

/** Looks each key up once, however often it is asked for. */
function once<T>(load: (key: string) => Promise<T | undefined>) {
  const seen = new Map<string, Promise<T | undefined>>();
  return (key: string | null | undefined) => {
    if (key === null || key === undefined) return Promise.resolve(undefined);
    if (!seen.has(key)) seen.set(key, load(key));
    return seen.get(key)!;
  };
}

/**
 * Feedback as CSV (docs/API.md#export): every page `list` hands out, each row as `GET /feedback`
 * shows it. The site's list and a person's page export the same way.
 */
export function sendFeedbackCsv(
  res: Response,
  store: Store,
  site: string,
  list: (after: Cursor | undefined) => Promise<Page<Feedback>>,
) {
  return sendCsv(
    res,
    'feedback',
    FEEDBACK_COLUMNS,
    allPages(list, async (items) => (await feedbackRows(store, site, items)).map(feedbackCells)),
  );
}

/** Feedback as `GET /feedback` shows it. */
export async function feedbackRows(store: Store, site: string, list: Feedback[]) {
  const user = once<User>((id) => store.getUser(site, id));
  const eu = once<ExternalUser>((id) => store.getExternalUser(site, id));
  const account = once<Account>((key) => store.getAccount(site, key));
  return Promise.all(
    list.map(async (f) =>
      presentFeedback(f, await user(f.user_id), await eu(f.external_user_id), await account(f.account_key)),
    ),
  );
}

/** The accounts of these external users, each once, in the order first met. */
export async function accountsOf(store: Store, site: string, eus: ExternalUser[]): Promise<Account[]> {
  const keys = [...new Set(eus.flatMap(accountKeysOf))];
  return (await Promise.all(keys.map((k) => store.getAccount(site, k)))).filter((a) => a !== undefined);
}

/** External users as listings show them, with their account's id. */
export async function externalUserRows(store: Store, site: string, eus: ExternalUser[]) {
  const accounts = new Map((await accountsOf(store, site, eus)).map((a) => [a.key, a]));
  return eus.map((eu) => presentExternalUser(eu, accounts.get(accountKeysOf(eu)[0] ?? '')));
}
