/**
 * `POST /api/v2/admin/feedback` (docs/API.md#http-api): backends record feedback — one item,
 * or `{"feedback": [...]}` of up to 1000 for a history import, all or nothing. Mounted by
 * admin.ts behind its bearer auth. Everything a request can get wrong without the store is
 * checked here, whole, before anything is logged; what it names is looked up when the batch
 * is applied (core/admin-feedback.ts), and a name that names nothing is a 404 with nothing
 * written. Like the other admin writes, the answer waits until the batch is durable and
 * applied.
 */
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { FEEDBACK_BATCH_MAX_ITEMS, ADMIN_BODY_MAX_BYTES } from '../../shared/limits.ts';
import { adminFeedbackBatch, adminFeedbackItem, issueDetails, type AdminFeedbackInput } from '../../shared/wire.ts';
import type { AdminFeedbackResult } from '../core/admin-feedback.ts';
import { coerceIdentity, fieldDefs, type FieldDefs, type FieldWarning } from '../core/custom-fields.ts';
import type { FeedbackItem } from '../core/feedback.ts';
import { RANK } from '../core/merge.ts';
import type { Site } from '../core/records.ts';
import { jsonBody } from '../http/body.ts';
import { rankFor } from '../trust/ranks.ts';
import { HttpError, invalid, type Detail } from '../http/errors.ts';
import type { Deps } from './deps.ts';
import { feedbackRows } from './linked.ts';

const body = jsonBody({ maxBytes: ADMIN_BODY_MAX_BYTES, types: ['application/json'] });

/** How far a `created_at` may run ahead of the collector's clock (the sender's clock may be off). */
const FUTURE_SKEW_MS = 60_000;

/** The source of admin feedback whose sender names none. */
export const DEFAULT_SOURCE = 'api';

/**
 * One validated item as it is logged. Versions are at the rank the site gives the admin API
 * (trust/ranks.ts), at the request's admin time, ordered within the request by index (as
 * bulk_identify's), and carry the message id, which also says the admin API wrote them.
 */
function itemOf(
  f: AdminFeedbackInput,
  index: number,
  rank: number,
  at: number,
  instance: string,
  defs: FieldDefs,
  warn: (w: FieldWarning) => void,
): FeedbackItem {
  const tb = `${String(index).padStart(4, '0')}:${instance}`;
  const message_id = f.message_id ?? `adm:${at}:${tb}`;
  let identity = undefined;
  if (f.identity) {
    // The admin key is the proof: proofs in the identity are not stored.
    const { identity_token: _t, user_hash: _h, ...clean } = f.identity;
    const c = coerceIdentity(defs, clean);
    for (const w of c.warnings) warn({ ...w, field: `identity.${w.field}` });
    identity = c.identity;
  }
  return {
    id: 'fb_' + randomBytes(9).toString('base64url'),
    message_id,
    kind: f.kind,
    title: f.title,
    body: f.body,
    idea_id: f.idea_id,
    score: f.score,
    page_url: f.page_url,
    created_at: f.created_at === undefined ? at : f.created_at * 1000,
    recorded_at: at,
    source: f.source ?? DEFAULT_SOURCE,
    identity,
    email: f.email,
    external_id: f.external_id,
    user_id: f.user_id,
    version: [rank, at, tb, message_id],
  };
}

export function adminFeedbackRoutes(deps: Deps, adminNow: () => number, instance: string): Router {
  const { store, intake } = deps;
  const r = Router();

  r.post('/feedback', body, async (req, res) => {
    const site = (res.locals.site as Site).key;
    const raw = req.body as unknown;
    // A body with a `feedback` key is a batch; anything else is one item.
    const batch = typeof raw === 'object' && raw !== null && !Array.isArray(raw) && 'feedback' in raw;
    let inputs: unknown[] = [raw];
    if (batch) {
      const env = adminFeedbackBatch.safeParse(raw);
      if (!env.success)
        throw invalid(
          `send {"feedback": [...]} with 1-${FEEDBACK_BATCH_MAX_ITEMS} items`,
          issueDetails(env.error.issues),
        );
      inputs = env.data.feedback;
    }
    const at = adminNow();
    // Admin rank where the site ranks sources; in `off` mode, the one rank every source shares.
    const rank = rankFor(res.locals.site as Site, RANK.admin);
    const defs = fieldDefs(await store.customFields(site));
    const details: Detail[] = [];
    const warnings: FieldWarning[] = [];
    const items: FeedbackItem[] = [];
    const firstOf = new Map<string, number>();
    inputs.forEach((input, index) => {
      // A batch's details name their item; a single item's need not.
      const where = batch ? { index } : {};
      const parsed = adminFeedbackItem.safeParse(input);
      if (!parsed.success) {
        details.push(...issueDetails(parsed.error.issues).map((d) => ({ ...where, ...d })));
        return;
      }
      const item = itemOf(parsed.data, index, rank, at, instance, defs, (w) => warnings.push({ ...where, ...w }));
      const first = firstOf.get(item.message_id);
      if (first !== undefined)
        details.push({ ...where, field: 'message_id', message: `repeats the message_id of item ${first}` });
      else firstOf.set(item.message_id, index);
      if (item.created_at > at + FUTURE_SKEW_MS)
        details.push({ ...where, field: 'created_at', message: 'must not be in the future' });
      items.push(item);
    });
    if (details.length > 0) {
      if (!batch) throw invalid('invalid feedback', details);
      const bad = new Set(details.map((d) => d.index)).size;
      throw new HttpError(
        422,
        'invalid_request',
        `${bad} of ${inputs.length} items are invalid; nothing was recorded`,
        details,
      );
    }

    const done = await intake.transact<AdminFeedbackResult>({ op: 'admin_feedback', site, items });
    if ('missing' in done)
      throw new HttpError(
        404,
        'not_found',
        batch ? 'items name what does not exist; nothing was recorded' : 'the feedback names what does not exist',
        done.missing.map(({ index, field, message }) => (batch ? { index, field, message } : { field, message })),
      );
    const rows = await feedbackRows(store, site, done.feedback);
    res.status(201).json({ feedback: batch ? rows : rows[0], warnings });
  });

  return r;
}
