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
import { ideaStats } from '../core/ideas.ts';
import { RANK, type Version } from '../core/merge.ts';
import { accountKeysOf, type ExternalUser, type Site } from '../core/records.ts';
import { jsonBody } from '../http/body.ts';
import { accountListing, listed, pagination, paging, userListing } from '../http/listing.ts';
import { adminFeedbackRoutes } from './admin-feedback.ts';
import { importRoutes } from './imports.ts';
import { peopleRoutes } from './people.ts';
import { HttpError, invalid, type Detail } from '../http/errors.ts';
import { presentAccount, presentExternalUser, presentFeedback, presentIdea, presentUser } from '../http/present.ts';
import { rankFor } from '../trust/ranks.ts';
import { hashKey } from '../sites.ts';
import type { PageQuery } from '../core/store.ts';
import type { Deps } from './deps.ts';

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
  const siteOf = (res: { locals: Record<string, unknown> }) => (res.locals.site as Site).key;

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
    const q = paging(req.query, filters.sort);
    const includes = new Set(
      String(req.query.includes ?? '')
        .split(',')
        .filter(Boolean),
    );
    const page = await listed(store.listUsers(site, { ...q, ...filters }));
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
      pagination: pagination(q, page, filters.sort),
    });
  });

  r.get('/external_accounts', async (req, res) => {
    const site = siteOf(res);
    const order = accountListing(req.query);
    const q = paging(req.query, order.sort);
    const page = await listed(store.listAccounts(site, { ...q, ...order }));
    const rows = await Promise.all(
      page.items.map(async (a) => presentAccount(a, await store.accountCounts(site, a.key))),
    );
    res.json({ external_accounts: rows, pagination: pagination(q, page, order.sort) });
  });

  r.get('/feedback', async (req, res) => {
    const site = siteOf(res);
    const q = paging(req.query);
    const page = await listed(store.listFeedback(site, q));
    const rows = await Promise.all(
      page.items.map(async (f) =>
        presentFeedback(
          f,
          f.user_id ? await store.getUser(site, f.user_id) : undefined,
          f.external_user_id ? await store.getExternalUser(site, f.external_user_id) : undefined,
          f.account_key ? await store.getAccount(site, f.account_key) : undefined,
        ),
      ),
    );
    res.json({ feedback: rows, pagination: pagination(q, page) });
  });

  r.get('/ideas', async (req, res) => {
    const site = siteOf(res);
    const q = paging(req.query);
    // Ranked on the fly, so there is no index to resume in: ideas page by number only.
    if (q.after) throw invalid('invalid paging parameters', [{ field: 'after', message: 'ideas are paged with page' }]);
    const ideas = await store.listIdeas(site);
    const rows = await Promise.all(ideas.map(async (i) => presentIdea(i, await ideaStats(store, site, i))));
    // `sort=mrr` ranks by the revenue behind an idea (the console's "MRR behind it" ranking).
    const sort = z.enum(['supporters', 'mrr']).default('supporters').safeParse(req.query.sort);
    if (!sort.success)
      throw invalid('sort must be "supporters" or "mrr"', [
        { field: 'sort', message: 'expected "supporters" or "mrr"' },
      ]);
    rows.sort(
      sort.data === 'mrr'
        ? (a, b) => b.mrr_cents - a.mrr_cents || b.supporters_count - a.supporters_count
        : (a, b) => b.supporters_count - a.supporters_count || b.mrr_cents - a.mrr_cents,
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
