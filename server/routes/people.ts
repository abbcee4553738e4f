/**
 * One person, and the links between people (docs/API.md#http-api): `GET /users/:id` — a
 * user with their external users, accounts, feedback (newest first, paged) and where each
 * stored field came from; `GET /external_users`, paged and filtered by user or account; and
 * `PUT /external_users/:external_id/user`, which links an external user to another user.
 * Mounted by admin.ts behind its bearer auth.
 */
import { Router } from 'express';
import { z } from 'zod';
import { ADMIN_BODY_MAX_BYTES, ID_MAX_CHARS } from '../../shared/limits.ts';
import { line } from '../../shared/text.ts';
import { issueDetails } from '../../shared/wire.ts';
import type { Relinked } from '../core/relink.ts';
import { accountKeysOf, type Site } from '../core/records.ts';
import { jsonBody } from '../http/body.ts';
import { HttpError, invalid } from '../http/errors.ts';
import { EXPORT_PAGE, wantsCsv } from '../http/export.ts';
import { externalUserListing, listed, pagination, paging, segmentOf, segmentOrder } from '../http/listing.ts';
import { presentAccount, presentExternalUser, presentUser } from '../http/present.ts';
import { ACCOUNT_NAMES, EXTERNAL_USER_NAMES, provenanceOf } from '../http/provenance.ts';
import type { Deps } from './deps.ts';
import { accountsOf, externalUserRows, feedbackRows, sendFeedbackCsv } from './linked.ts';

const body = jsonBody({ maxBytes: ADMIN_BODY_MAX_BYTES, types: ['application/json'] });
const relinkBody = z.object({ user_id: line(ID_MAX_CHARS, 1) });
/** An id in a path: a Parley user id or an integrator's id, one line of 1-255 characters. */
const idParam = line(ID_MAX_CHARS, 1);
/** A person's feedback is newest first by when it was given: cursors carry that order's name. */
const USER_FEEDBACK_ORDER = '-created_at';

const notFound = (field: string, message: string) => new HttpError(404, 'not_found', message, [{ field, message }]);

export function peopleRoutes(deps: Deps, adminNow: () => number): Router {
  const { store, intake } = deps;
  const r = Router();
  const siteOf = (res: { locals: Record<string, unknown> }) => (res.locals.site as Site).key;

  r.get('/users/:id', async (req, res) => {
    const site = siteOf(res);
    // What cannot be an id (control characters, NUL) is no user's, and never reaches the store.
    const id = idParam.safeParse(String(req.params.id));
    const user = id.success ? await store.getUser(site, id.data) : undefined;
    if (!user) throw notFound('id', 'no user with this id');
    // Their feedback takes the filters of `GET /feedback` (docs/API.md#segments), and exports as CSV.
    const segment = await segmentOf(req.query, 'feedback', async (n) => (await store.segments(site))[n]);
    if (wantsCsv(req))
      return sendFeedbackCsv(res, store, site, (after) =>
        store.listUserFeedback(site, { page: 1, perPage: EXPORT_PAGE, after, userId: user.id, segment }),
      );
    const order = segmentOrder(USER_FEEDBACK_ORDER, segment);
    const q = paging(req.query, order);
    const [eus, page] = await Promise.all([
      store.externalUsersOf(site, user.id),
      listed(store.listUserFeedback(site, { ...q, userId: user.id, segment })),
    ]);
    const accounts = await accountsOf(store, site, eus);
    const byKey = new Map(accounts.map((a) => [a.key, a]));
    res.json({
      user: presentUser(
        user,
        eus.map((eu) => eu.external_id),
      ),
      external_users: eus.map((eu) => ({
        ...presentExternalUser(eu, byKey.get(accountKeysOf(eu)[0] ?? '')),
        provenance: provenanceOf(eu.profile, EXTERNAL_USER_NAMES),
      })),
      external_accounts: await Promise.all(
        accounts.map(async (a) => ({
          ...presentAccount(a, await store.accountCounts(site, a.key)),
          provenance: provenanceOf(a.profile, ACCOUNT_NAMES),
        })),
      ),
      feedback: await feedbackRows(store, site, page.items),
      pagination: pagination(q, page, order),
    });
  });

  r.get('/external_users', async (req, res) => {
    const site = siteOf(res);
    const filters = externalUserListing(req.query);
    const q = paging(req.query);
    const page = await listed(store.listExternalUsers(site, { ...q, ...filters }));
    res.json({ external_users: await externalUserRows(store, site, page.items), pagination: pagination(q, page) });
  });

  r.put('/external_users/:external_id/user', body, async (req, res) => {
    const site = siteOf(res);
    const externalId = idParam.safeParse(String(req.params.external_id));
    if (!externalId.success)
      throw invalid(
        'invalid external id',
        externalId.error.issues.map((i) => ({ field: 'external_id', message: i.message })),
      );
    const parsed = relinkBody.safeParse(req.body);
    if (!parsed.success) throw invalid('send {"user_id": "..."}', issueDetails(parsed.error.issues));
    const done = await intake.transact<Relinked>({
      op: 'relink',
      site,
      at: adminNow(),
      external_id: externalId.data,
      user_id: parsed.data.user_id,
    });
    if ('missing' in done)
      throw done.missing === 'external_id'
        ? notFound('external_id', 'no external user with this id')
        : notFound('user_id', 'no user with this id');
    const [account] = await accountsOf(store, site, [done.externalUser]);
    res.json({
      external_user: presentExternalUser(done.externalUser, account),
      user: presentUser(
        done.user,
        (await store.externalUsersOf(site, done.user.id)).map((eu) => eu.external_id),
      ),
      previous_user: done.previous,
      feedback_moved: done.feedbackMoved,
    });
  });

  return r;
}
