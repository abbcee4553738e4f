/**
 * Public routes the widget calls (docs/API.md#http-api): the site key is in the path, bodies are
 * text/plain or JSON, CORS only for the site's origins.
 */
import { randomBytes } from 'node:crypto';
import { Router, type Request, type RequestHandler } from 'express';
import type { Identity } from '../../shared/identity.ts';
import { safeParseIdentity } from '../../shared/identity-fast.ts';
import { PUBLIC_BODY_MAX_BYTES } from '../../shared/limits.ts';
import { feedbackBody, issueDetails, widgetIdentifyBody, widgetItemMeta } from '../../shared/wire.ts';
import type { IdentifyItem } from '../core/identify.ts';
import { ideaStats, matchesTitle } from '../core/ideas.ts';
import type { Site } from '../core/records.ts';
import { jsonBody } from '../http/body.ts';
import { applyCors } from '../http/cors.ts';
import { HttpError, invalid, type Detail } from '../http/errors.ts';
import { presentPublicFeedback } from '../http/present.ts';
import { attributable } from '../trust/attribution.ts';
import { identifyItems, feedbackVersion } from '../trust/items.ts';
import { checkProof } from '../trust/proof.ts';
import type { Deps } from './deps.ts';

const body = jsonBody({ maxBytes: PUBLIC_BODY_MAX_BYTES, types: ['application/json', 'text/plain'] });

/**
 * The server-side time of an event the browser observed: the browser's clock may be off by
 * anything, so shift its timestamp by the difference between its send time and our receive
 * time, and never accept a time in the future.
 */
export function correctedTime(observedAt: number, sentAt: number, receivedAt: number): number {
  return Math.max(0, Math.min(receivedAt, observedAt + (receivedAt - sentAt)));
}

const pass: RequestHandler = (_req, _res, next) => next();

/** `limit` runs after the site is known (so its 429 carries the site's CORS headers). */
export function widgetRoutes(deps: Deps, limit: RequestHandler = pass): Router {
  const { store, intake, clock } = deps;
  const r = Router({ mergeParams: true });

  /** Loads the site named in the path and answers CORS for it; unknown site → 404. */
  const site: RequestHandler = async (req, res, next) => {
    const s = await store.getSite(String(req.params.site));
    if (!s) {
      // Readable by any page, so a widget with a wrong site key stops instead of retrying.
      res.setHeader('Access-Control-Allow-Origin', '*');
      throw new HttpError(404, 'not_found', 'no such site');
    }
    applyCors(s, req, res);
    res.locals.site = s;
    next();
  };
  const siteOf = (res: { locals: Record<string, unknown> }) => res.locals.site as Site;

  r.options('/:site/{*rest}', site, limit, (_req, res) => {
    res.status(204).end();
  });

  // Proofs (docs/API.md#trust) are checked for every item before anything is logged. A wrong proof,
  // or a missing one in required mode, fails the whole request with 401: a batch comes from one
  // page, so one forged proof makes the whole batch suspect, and nothing of it is stored.
  r.post('/:site/identify', site, limit, body, async (req: Request, res) => {
    const receivedAt = clock();
    const envelope = widgetIdentifyBody.safeParse(req.body);
    if (!envelope.success) throw invalid('invalid identify batch', issueDetails(envelope.error.issues));
    const { sent_at, identities } = envelope.data;
    const valid: { index: number; message_id: string; at: number; identity: Identity }[] = [];
    const rejected: { index: number; errors: Detail[] }[] = [];
    identities.forEach((raw, index) => {
      const meta = widgetItemMeta.safeParse(raw);
      const identity = safeParseIdentity(raw);
      if (!meta.success || !identity.success) {
        const issues = [...(meta.error?.issues ?? []), ...(identity.error?.issues ?? [])];
        rejected.push({ index, errors: issueDetails(issues) });
        return;
      }
      const at = correctedTime(meta.data.observed_at, sent_at, receivedAt);
      valid.push({ index, message_id: meta.data.message_id, at, identity: identity.data });
    });
    // Location from the request when the page gave none (README "Location"): one lookup per
    // request, only when needed; the address itself goes nowhere.
    const s = siteOf(res);
    if (s.geoip !== false && valid.some((v) => !v.identity.location)) {
      const location = deps.geoip?.locate(req.ip);
      if (location) for (const v of valid) v.identity.location ??= location;
    }
    const items: IdentifyItem[] = [];
    for (const v of valid) {
      const checked = await checkProof(siteOf(res), v.identity, receivedAt, v.index);
      items.push(...identifyItems(siteOf(res), checked, v.message_id, v.at));
    }
    if (items.length === 0) {
      throw invalid(
        'no valid identity in the batch',
        rejected.flatMap((r) => r.errors.map((e) => ({ index: r.index, ...e }))),
      );
    }
    await intake.identify(siteOf(res).key, items);
    res.status(202).json({ status: 'queued', accepted: valid.length, rejected });
  });

  r.post('/:site/feedback', site, limit, body, async (req, res) => {
    const parsed = feedbackBody.safeParse(req.body);
    if (!parsed.success) throw invalid('invalid feedback', issueDetails(parsed.error.issues));
    const f = parsed.data;
    const s = siteOf(res);
    if (
      f.idea_id &&
      !(await store.getIdea(s.key, f.idea_id)) &&
      !(await store.getFeedbackByMessage(s.key, f.message_id))
    ) {
      throw invalid('no such idea', [{ field: 'idea_id', message: 'no idea with this id' }]);
    }
    const now = clock();
    const checked = f.identity ? await checkProof(s, f.identity, now) : undefined;
    const version = feedbackVersion(s, checked, now, f.message_id);
    const email = checked ? undefined : f.email;
    // A claim to speak for someone a stronger source vouched for is recorded anonymously.
    const own = await attributable(store, s, { checked, email }, version[0]);
    const feedback = await intake.feedback(s.key, {
      id: 'fb_' + randomBytes(9).toString('base64url'),
      message_id: f.message_id,
      kind: f.kind,
      title: f.title,
      body: f.body,
      idea_id: f.idea_id,
      score: f.score,
      page_url: f.page_url,
      created_at: now,
      identity: own ? checked?.identity : undefined,
      email: own ? email : undefined,
      version,
    });
    res.status(201).json({ feedback: presentPublicFeedback(feedback) });
  });

  r.get('/:site/ideas', site, limit, async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 200) : '';
    const s = siteOf(res);
    const ideas = (await store.listIdeas(s.key)).filter((i) => matchesTitle(i, q));
    const rows = await Promise.all(
      ideas.map(async (i) => ({
        id: i.id,
        title: i.title,
        supporters_count: (await ideaStats(store, s.key, i)).supporters_count,
      })),
    );
    rows.sort((a, b) => b.supporters_count - a.supporters_count);
    res.json({ ideas: rows.slice(0, 10) });
  });

  return r;
}
