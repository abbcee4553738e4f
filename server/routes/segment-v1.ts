/**
 * Segment's HTTP tracking API (docs/API.md#the-v1-routes): `POST /v1/identify`, `/v1/group` and
 * `/v1/batch`, authenticated with the site's write key as Segment's libraries send it
 * (`Authorization: Basic base64("<write key>:")`), so `@segment/analytics-node` (or any library
 * speaking this API) pointed at the collector works unchanged. The same routes take a Segment
 * Webhooks destination's posts: one event or an array, with an optional `X-Signature`.
 *
 * A request is checked whole before anything is written: one malformed event is a 400 naming
 * it (`batch.3.groupId`) and nothing of the request is logged. Then its identities and
 * erasures go to the intake log in order, at admin rank (it is the integrator's own server).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type RequestHandler } from 'express';
import { safeParseIdentity } from '../../shared/identity-fast.ts';
import { SEGMENT_BATCH_MAX_BYTES, SEGMENT_CALL_MAX_BYTES } from '../../shared/limits.ts';
import type { IdentifyItem } from '../core/identify.ts';
import { RANK } from '../core/merge.ts';
import type { Site } from '../core/records.ts';
import {
  actionOf,
  DEFAULT_REVENUE_TRAITS,
  dedupeId,
  isRegulation,
  regulationErases,
  segmentEvent,
  segmentRegulation,
  type Action,
} from '../core/segment-events.ts';
import { createGeoip } from '../http/geoip.ts';
import { HttpError, invalid, type Detail } from '../http/errors.ts';
import { parseJson } from '../http/json.ts';
import { siteByWriteKey } from '../sites.ts';
import { rankFor } from '../trust/ranks.ts';
import type { Deps } from './deps.ts';

/** Segment events nest deeper than widget identities (context.library, traits.address, …). */
const SEGMENT_JSON_DEPTH = 16;
const TYPES = ['application/json', 'text/plain'];
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** How long a group for a person not applied yet waits for the identities queued before it. */
const DRAIN_WAIT_MS = 2000;

/**
 * Reads the body as text (the signature is over its bytes). Over the limit is a 400, as
 * Segment answers it: its libraries drop a batch on 400 rather than retrying it forever.
 */
function rawBody(maxBytes: number): RequestHandler {
  return async (req, res, next) => {
    if ((req.headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity')
      throw new HttpError(415, 'unsupported_media_type', 'compressed bodies are not accepted');
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!TYPES.includes(type))
      throw new HttpError(415, 'unsupported_media_type', 'content type must be application/json');
    const tooLarge = () =>
      invalid(`request body is larger than ${maxBytes} bytes`, [{ field: '(body)', message: 'too large' }]);
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge();
      chunks.push(chunk);
    }
    try {
      res.locals.raw = utf8.decode(Buffer.concat(chunks, size));
    } catch {
      throw invalid('request body is not valid UTF-8', [{ field: '(body)', message: 'not UTF-8' }]);
    }
    req.body = parseJson(res.locals.raw as string, SEGMENT_JSON_DEPTH);
    next();
  };
}

/** The write key from `Basic base64("<key>:")`, or from the body's `writeKey` as Segment also takes it. */
function writeKeyOf(req: Request): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(req.headers.authorization ?? '');
  if (m) return Buffer.from(m[1], 'base64').toString('utf8').split(':')[0];
  const body = req.body as { writeKey?: unknown } | undefined;
  return typeof body?.writeKey === 'string' ? body.writeKey : undefined;
}

/** hex HMAC-SHA1 of `text`: the Webhooks destination's X-Signature. */
const hmac = (secret: string, text: string) => createHmac('sha1', secret).update(text).digest();

/**
 * With a segment secret set, a signature that is sent must match: over the body, or (the
 * destination's batch mode signs only the first event) over the first element of an array.
 * A request without one still needs the write key, which is what authenticates it.
 */
function checkSignature(site: Site, req: Request, raw: string): void {
  const sent = req.headers['x-signature'];
  if (!site.segment_secret || sent === undefined) return;
  const got = Buffer.from(String(sent), 'hex');
  const matches = (text: string) => {
    const want = hmac(site.segment_secret!, text);
    return got.length === want.length && timingSafeEqual(got, want);
  };
  const body = req.body as unknown;
  if (matches(raw) || (Array.isArray(body) && body.length > 0 && matches(JSON.stringify(body[0])))) return;
  throw new HttpError(401, 'unauthorized', 'X-Signature does not match the body', [
    { field: 'X-Signature', message: 'wrong signature' },
  ]);
}

/** The events a body holds: `{batch: [...]}`, an array (Webhooks batch mode) or one event. */
function eventsOf(body: unknown): { events: unknown[]; prefix: (i: number) => string } {
  if (Array.isArray(body)) return { events: body, prefix: (i) => `${i}.` };
  if (typeof body === 'object' && body !== null && Array.isArray((body as { batch?: unknown }).batch))
    return { events: (body as { batch: unknown[] }).batch, prefix: (i) => `batch.${i}.` };
  if (typeof body === 'object' && body !== null && 'batch' in body)
    throw invalid('batch must be an array', [{ field: 'batch', message: 'expected an array' }]);
  if (typeof body === 'object' && body !== null) return { events: [body], prefix: () => '' };
  throw invalid('the body must be an event, an array of events or {"batch": [...]}', [
    { field: '(body)', message: 'expected an object' },
  ]);
}

/** One write, in request order: identities go in runs, an erasure between them. */
type Write = { kind: 'identify'; items: IdentifyItem[] } | { kind: 'erase'; userId: string };

export function segmentRoutes(deps: Deps): Router {
  const { store, intake, clock } = deps;
  const geoip = deps.geoip ?? createGeoip();
  const r = Router();
  // Events without a messageId get one unique to this process, as bulk_identify's do.
  const instance = randomBytes(6).toString('base64url');

  const auth: RequestHandler = async (req, res, next) => {
    const key = writeKeyOf(req);
    if (!key)
      throw new HttpError(401, 'unauthorized', 'send the write key as "Authorization: Basic base64(<write key>:)"');
    const site = await siteByWriteKey(store, key);
    if (!site) throw new HttpError(401, 'unauthorized', 'unknown write key');
    checkSignature(site, req, res.locals.raw as string);
    res.locals.site = site;
    next();
  };

  const handle =
    (routeType: 'identify' | 'group' | undefined): RequestHandler =>
    async (req, res) => {
      const site = res.locals.site as Site;
      const receivedAt = clock();
      const writes: Write[] = [];
      const issues: Detail[] = [];
      const counts = { accepted: 0, ignored: 0, skipped: 0, erased: 0 };
      const erase = (userId: string) => {
        writes.push({ kind: 'erase', userId });
        counts.erased++;
      };

      if (isRegulation(req.body)) {
        const reg = segmentRegulation.safeParse(req.body);
        if (!reg.success) throw invalid('invalid regulation', issuesOf(reg.error.issues, ''));
        regulationErases(reg.data).forEach(erase);
      } else {
        const { events, prefix } = eventsOf(req.body);
        if (events.length === 0) throw invalid('the batch is empty', [{ field: 'batch', message: 'no events' }]);
        const revenue = site.revenue_trait ? [site.revenue_trait] : DEFAULT_REVENUE_TRAITS;
        // Emails seen earlier in this request: a group right after its identify names the person by id only.
        const emails = new Map<string, string>();
        for (let i = 0; i < events.length; i++) {
          const at = prefix(i);
          if (Buffer.byteLength(JSON.stringify(events[i])) > SEGMENT_CALL_MAX_BYTES) {
            issues.push({
              field: at.slice(0, -1) || '(body)',
              message: `event larger than ${SEGMENT_CALL_MAX_BYTES} bytes`,
            });
            continue;
          }
          const parsed = segmentEvent.safeParse(events[i]);
          if (!parsed.success) {
            issues.push(...issuesOf(parsed.error.issues, at));
            continue;
          }
          const action = actionOf(parsed.data, routeType, revenue);
          if ('field' in action) {
            issues.push({ field: at + action.field, message: action.message });
            continue;
          }
          if (action.kind === 'ignored') counts.ignored++;
          else if (action.kind === 'skipped') counts.skipped++;
          else if (action.kind === 'erase') erase(action.userId);
          else {
            const item = await itemOf(site, action, i, at, emails, receivedAt, issues);
            if (item === 'no_email') counts.skipped++;
            if (!item || item === 'no_email') continue;
            const last = writes[writes.length - 1];
            if (last?.kind === 'identify') last.items.push(item);
            else writes.push({ kind: 'identify', items: [item] });
            counts.accepted++;
          }
        }
      }
      if (issues.length) throw invalid('invalid Segment event', issues);
      for (const w of writes) {
        if (w.kind === 'identify') await intake.identify(site.key, w.items);
        else await intake.transact({ op: 'erase_external', site: site.key, external_id: w.userId });
      }
      res.status(202).json({ success: true, ...counts });
    };

  /**
   * An identify or group as the item Parley logs. An event without an email names its person
   * by id: the email comes from earlier in the request or the stored person; one Parley has
   * never seen with an email identifies nobody yet ('no_email': skipped, counted). Undefined
   * when invalid (the issue is added).
   */
  async function itemOf(
    site: Site,
    action: Extract<Action, { kind: 'identify' | 'group' }>,
    index: number,
    at: string,
    emails: Map<string, string>,
    receivedAt: number,
    issues: Detail[],
  ): Promise<IdentifyItem | 'no_email' | undefined> {
    const { identity: raw, from } = action.mapped;
    if (raw.email === undefined) {
      const known = emails.get(action.userId) ?? (await storedEmail(site.key, action.userId));
      if (!known) return 'no_email';
      raw.email = known;
    }
    // The person's address, as their own browser would have shown it; the sending server's is not theirs.
    if (site.geoip !== false && raw.location === undefined) {
      const location = geoip.locate(action.ip);
      if (location) raw.location = location;
    }
    const parsed = safeParseIdentity(raw);
    if (!parsed.success) {
      for (const i of parsed.error.issues) {
        const key = i.path.map(String).join('.');
        issues.push({ field: at + (from[key] ?? from[i.path.map(String)[0]] ?? key), message: i.message });
      }
      return undefined;
    }
    emails.set(action.userId, parsed.data.email);
    const { identity_token: _t, user_hash: _h, ...identity } = parsed.data;
    const when = action.at !== undefined && !Number.isNaN(action.at) ? Math.min(action.at, receivedAt) : receivedAt;
    const mid = action.messageId ? dedupeId(action.messageId) : `seg:${receivedAt}:${index}:${instance}`;
    // Admin rank, the event's own time orders it against other writes, and its message id is
    // kept as the admin API keeps one (server/http/provenance.ts). Events of one batch stamped in
    // the same millisecond (a library's identify and then group) keep their batch order: the
    // tie-break leads with the position, as bulk_identify's does.
    const tb = `${String(index).padStart(5, '0')}:${mid}`;
    return { message_id: mid, version: [rankFor(site, RANK.admin), when, tb, mid], identity };
  }

  /**
   * The email Parley holds for an integrator's user id, visible or pending. When it holds none
   * yet but identities are still being applied, it waits for them once (at most DRAIN_WAIT_MS):
   * a library that flushes often sends a group in the request after its identify.
   */
  async function storedEmail(site: string, externalId: string): Promise<string | undefined> {
    const lookup = async () => {
      const eu = await store.getExternalUser(site, externalId);
      const email = eu?.profile.f.email ?? (await store.getPending(site, externalId))?.profile.f.email;
      return typeof email === 'string' ? email : undefined;
    };
    const found = await lookup();
    if (found !== undefined || intake.depth() === 0) return found;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      intake.drained(),
      new Promise<void>((r) => (timer = setTimeout(r, DRAIN_WAIT_MS).unref())),
    ]).finally(() => clearTimeout(timer));
    return lookup();
  }

  r.post('/identify', rawBody(SEGMENT_CALL_MAX_BYTES), auth, handle('identify'));
  r.post('/group', rawBody(SEGMENT_CALL_MAX_BYTES), auth, handle('group'));
  r.post('/batch', rawBody(SEGMENT_BATCH_MAX_BYTES), auth, handle(undefined));
  return r;
}

function issuesOf(issues: readonly { path: readonly PropertyKey[]; message: string }[], at: string): Detail[] {
  return issues.map((i) => ({ field: at + (i.path.map(String).join('.') || '(event)'), message: i.message }));
}
