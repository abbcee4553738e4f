/**
 * Admin routes (docs/API.md#http-api): `Authorization: Bearer <admin key>`, the key selects the site.
 * No CORS headers: these are called from integrators' backends and the same-origin console.
 */
import { randomBytes } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { safeParseIdentity } from '../../shared/identity-fast.ts';
import { ADMIN_BODY_MAX_BYTES } from '../../shared/limits.ts';
import { bulkIdentifyBody, issueDetails, messageId } from '../../shared/wire.ts';
import type { IdentifyItem } from '../core/identify.ts';
import { RANK, type Version } from '../core/merge.ts';
import { accountKeysOf, type Account, type ExternalUser, type Site } from '../core/records.ts';
import { jsonBody } from '../http/body.ts';
import { allPages, EXPORT_PAGE, sendCsv, wantsCsv } from '../http/export.ts';
import { accountListing, listed, pagination, paging, segmentOf, segmentOrder, userListing } from '../http/listing.ts';
import { feedbackRows, sendFeedbackCsv } from './linked.ts';
import { segmentRoutes } from './segments.ts';
import { adminFeedbackRoutes } from './admin-feedback.ts';
import { importRoutes } from './imports.ts';
import { peopleRoutes } from './people.ts';
import { HttpError, invalid, type Detail } from '../http/errors.ts';
import { presentAccount, presentExternalUser, presentFeedback, presentIdea, presentUser } from '../http/present.ts';
import { rankFor } from '../trust/ranks.ts';
import { hashKey } from '../sites.ts';
import { emptySegment } from '../core/filters.ts';
import type { Deps } from './deps.ts';

const IDEA_SORTS = ['supporters', 'accounts', 'mrr'] as const;

const body = jsonBody({ maxBytes: ADMIN_BODY_MAX_BYTES, types: ['application/json'] });

/** Built once: making a zod schema costs more than using it (~1 µs per identity here). */
const optionalMessageId = messageId.optional();

/** Monotonic admin time: batches in arrival order never share a version time. */
function monotonic(clock: () => number) {
  let last = 0;
  return () => (last = Math.max(clock(), last + 1));
}

export function adminRoutes(deps: Deps): Router {
  const { store, intake, clock } = deps;
  const r = Router();
  const adminNow = monotonic(clock);
  // This process, in ids it makes: another collector's clock can read the same millisecond, and
  // two generated message ids alike would make the second identity a "duplicate", never applied.
  const instance = randomBytes(6).toString('base64url');

  const auth: RequestHandler = async (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new HttpError(401, 'unauthorized', 'send the admin key as "Authorization: Bearer <key>"');
    const site = await store.getSiteByAdminKeyHash(hashKey(m[1]));
    if (!site) throw new HttpError(401, 'unauthorized', 'unknown admin key');
    res.locals.site = site;
    next();
  };
  r.use(auth);
  r.use(importRoutes(deps, adminNow));
  r.use(adminFeedbackRoutes(deps, adminNow, instance));
  r.use(peopleRoutes(deps, adminNow));
  r.use(segmentRoutes(deps));
  const siteOf = (res: { locals: Record<string, unknown> }) => (res.locals.site as Site).key;
  const savedIn = (site: string) => async (name: string) => (await store.segments(site))[name];

  r.post('/bulk_identify', body, async (req, res) => {
    const envelope = bulkIdentifyBody.safeParse(req.body);
    if (!envelope.success) throw invalid('invalid bulk_identify body', issueDetails(envelope.error.issues));
    const at = adminNow();
    // Admin rank where the site ranks sources; in off mode, the one rank every source shares.
    const rank = rankFor(res.locals.site as Site, RANK.admin);
    const items: IdentifyItem[] = [];
    const rejected: { index: number; errors: Detail[] }[] = [];
    envelope.data.identities.forEach((raw, index) => {
      const identity = safeParseIdentity(raw);
      const mid = optionalMessageId.safeParse((raw as { message_id?: unknown })?.message_id);
      if (!identity.success || !mid.success) {
        rejected.push({
          index,
          errors: issueDetails([
            ...(identity.error?.issues ?? []),
            ...(mid.error?.issues ?? []).map((i) => ({ ...i, path: ['message_id'] })),
          ]),
        });
        return;
      }
      const { identity_token: _t, user_hash: _h, ...clean } = identity.data;
      // Arrival order decides between admin updates; within a batch, the later item wins, and
      // between two collectors at the same millisecond, a fixed (if arbitrary) one.
      const tb = `${String(index).padStart(4, '0')}:${instance}`;
      // The version says the admin API wrote it, and keeps the message id the sender chose; a
      // generated one (`adm:<at>:<tb>`) is read back from it (http/provenance.ts).
      items.push({
        message_id: mid.data ?? `adm:${at}:${tb}`,
        version: [rank, at, tb, mid.data ?? ''],
        identity: clean,
      });
    });
    if (items.length === 0)
      throw invalid(
        'no valid identity in the batch',
        rejected.flatMap((r) => r.errors.map((e) => ({ index: r.index, ...e }))),
      );
    await intake.identify(siteOf(res), items);
    res.status(202).json({ status: 'queued', accepted: items.length, rejected });
  });

  r.get('/users', async (req, res) => {
    const site = siteOf(res);
    const filters = userListing(req.query);
    const segment = await segmentOf(req.query, 'users', savedIn(site));
    const order = segmentOrder(filters.sort ?? '', segment);
    if (wantsCsv(req)) {
      const header = ['id', 'email', 'name', 'created_at', 'updated_at', 'external_user_ids'];
      return sendCsv(
        res,
        'users',
        header,
        allPages(
          (after) => store.listUsers(site, { page: 1, perPage: EXPORT_PAGE, after, ...filters, segment }),
          async (users) => {
            const eus = await Promise.all(users.map((u) => store.externalUsersOf(site, u.id)));
            return users.map((u, i) => {
              const p = presentUser(
                u,
                eus[i].map((e) => e.external_id),
              );
              return [p.id, p.email, p.name, p.created_at, p.updated_at, p.links.external_users.join(' ')];
            });
          },
        ),
      );
    }
    const q = paging(req.query, order);
    const includes = new Set(
      String(req.query.includes ?? '')
        .split(',')
        .filter(Boolean),
    );
    const page = await listed(store.listUsers(site, { ...q, ...filters, segment }));
    // One round of lookups for the page, not one per user; accounts only when asked for.
    const eusOf = await Promise.all(page.items.map((u) => store.externalUsersOf(site, u.id)));
    const users = page.items.map((u, i) =>
      presentUser(
        u,
        eusOf[i].map((e) => e.external_id),
      ),
    );
    // Every account each person is linked to; the first is the one they act in.
    const keyOf = (eu: ExternalUser) => accountKeysOf(eu)[0];
    const keys =
      includes.has('external_users') || includes.has('external_accounts')
        ? [...new Set(eusOf.flat().flatMap(accountKeysOf))]
        : [];
    const accounts = new Map(
      (await Promise.all(keys.map((k) => store.getAccount(site, k))))
        .filter((a) => a !== undefined)
        .map((a) => [a.key, a]),
    );
    const externalUsers = includes.has('external_users')
      ? eusOf.flat().map((eu) => presentExternalUser(eu, accounts.get(keyOf(eu) ?? '')))
      : [];
    res.json({
      users,
      ...(includes.has('external_users') ? { external_users: externalUsers } : {}),
      ...(includes.has('external_accounts')
        ? { external_accounts: [...accounts.values()].map((a) => presentAccount(a)) }
        : {}),
      pagination: pagination(q, page, order),
    });
  });

  r.get('/external_accounts', async (req, res) => {
    const site = siteOf(res);
    const order = accountListing(req.query);
    const segment = await segmentOf(req.query, 'accounts', savedIn(site));
    const cursorOrder = segmentOrder(order.sort ?? '', segment);
    const present = (list: Account[]) =>
      Promise.all(list.map(async (a) => presentAccount(a, await store.accountCounts(site, a.key))));
    if (wantsCsv(req)) {
      const header = ['id', 'external_id', 'name', 'plan', 'mrr_cents', 'ltv_cents', 'users_count', 'feedback_count'];
      return sendCsv(
        res,
        'external_accounts',
        [...header, 'custom_fields', 'created_at', 'updated_at'],
        allPages(
          (after) => store.listAccounts(site, { page: 1, perPage: EXPORT_PAGE, after, ...order, segment }),
          async (list) =>
            (await present(list)).map((a) => [
              a.id,
              a.external_id,
              a.name,
              a.plan,
              a.mrr_cents,
              a.ltv_cents,
              a.users_count,
              a.feedback_count,
              JSON.stringify(a.custom_fields),
              a.created_at,
              a.updated_at,
            ]),
        ),
      );
    }
    const q = paging(req.query, cursorOrder);
    const page = await listed(store.listAccounts(site, { ...q, ...order, segment }));
    res.json({ external_accounts: await present(page.items), pagination: pagination(q, page, cursorOrder) });
  });

  r.get('/feedback', async (req, res) => {
    const site = siteOf(res);
    const segment = await segmentOf(req.query, 'feedback', savedIn(site));
    if (wantsCsv(req))
      return sendFeedbackCsv(res, store, site, (after) =>
        store.listFeedback(site, { page: 1, perPage: EXPORT_PAGE, after, segment }),
      );
    const order = segmentOrder('', segment);
    const q = paging(req.query, order);
    const [page, totals] = await Promise.all([
      listed(store.listFeedback(site, { ...q, segment })),
      // What stands behind the segment, over every page (docs/API.md#segments): only when filtered.
      segment ? store.segmentTotals(site, segment) : undefined,
    ]);
    res.json({
      feedback: await feedbackRows(store, site, page.items),
      pagination: pagination(q, page, order),
      ...(totals ? { segment: totals } : {}),
    });
  });

  r.get('/ideas', async (req, res) => {
    const site = siteOf(res);
    const segment = await segmentOf(req.query, 'ideas', savedIn(site));
    const csv = wantsCsv(req);
    const q = paging(req.query);
    // Ranked on the fly, so there is no index to resume in: ideas page by number only.
    if (q.after) throw invalid('invalid paging parameters', [{ field: 'after', message: 'ideas are paged with page' }]);
    // `sort=mrr` ranks by the revenue behind an idea (the console's "MRR behind it" ranking),
    // `accounts` by how many distinct accounts ask for it.
    const sort = z.enum(IDEA_SORTS).default('supporters').safeParse(req.query.sort);
    if (!sort.success)
      throw invalid('sort must be "supporters", "accounts" or "mrr"', [
        { field: 'sort', message: 'expected "supporters", "accounts" or "mrr"' },
      ]);
    // One pass over the supporters' feedback for every idea; in a segment, only its supporters
    // count and ideas none of them support are left out (docs/API.md#segments).
    const [ideas, stats] = await Promise.all([
      store.listIdeas(site),
      store.segmentIdeaStats(site, segment ?? emptySegment()),
    ]);
    const none = { supporters_count: 0, accounts_count: 0, mrr_cents: 0 };
    const rows = ideas.filter((i) => !segment || stats.has(i.id)).map((i) => presentIdea(i, stats.get(i.id) ?? none));
    const by = {
      supporters: ['supporters_count', 'mrr_cents', 'accounts_count'],
      accounts: ['accounts_count', 'mrr_cents', 'supporters_count'],
      mrr: ['mrr_cents', 'supporters_count', 'accounts_count'],
    } as const;
    const keys = by[sort.data];
    rows.sort((a, b) => b[keys[0]] - a[keys[0]] || b[keys[1]] - a[keys[1]] || b[keys[2]] - a[keys[2]]);
    if (csv)
      return sendCsv(
        res,
        'ideas',
        ['id', 'title', 'supporters_count', 'accounts_count', 'mrr_cents', 'created_at'],
        (async function* () {
          for (let i = 0; i < rows.length; i += EXPORT_PAGE)
            yield rows
              .slice(i, i + EXPORT_PAGE)
              .map((r) => [r.id, r.title, r.supporters_count, r.accounts_count, r.mrr_cents, r.created_at]);
        })(),
      );
    const start = (q.page - 1) * q.perPage;
    const items = rows.slice(start, start + q.perPage);
    res.json({ ideas: items, pagination: pagination(q, { items, total: rows.length, next: null }) });
  });

  r.get('/stats', async (_req, res) => {
    // All collectors' queue on PostgreSQL, not only this one's.
    res.json({ ...(await store.counts(siteOf(res))), queue: { depth: await intake.sharedDepth() } });
  });

  return r;
}
