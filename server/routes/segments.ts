/**
 * Saved segments and NPS (docs/API.md#segments). `PUT /segments/:name` saves a segment's filters
 * (parameter → values, checked by the same parser as the lists' query parameters), through the
 * intake like every admin write, so a 200 survives a crash and a replay; `GET` and `DELETE`
 * the same path (404 when absent); `GET /segments` lists them. `GET /nps` scores NPS answers
 * in a segment. Mounted by admin.ts behind its bearer auth.
 */
import { Router } from 'express';
import { z } from 'zod';
import { ADMIN_BODY_MAX_BYTES } from '../../shared/limits.ts';
import { issueDetails } from '../../shared/wire.ts';
import { FilterError, parseSegment, segmentQuery } from '../core/filters.ts';
import { emptySegment } from '../core/filters.ts';
import { npsReply } from '../core/nps.ts';
import type { Site } from '../core/records.ts';
import { jsonBody } from '../http/body.ts';
import { HttpError, invalid } from '../http/errors.ts';
import { segmentOf } from '../http/listing.ts';
import type { Deps } from './deps.ts';

const body = jsonBody({ maxBytes: ADMIN_BODY_MAX_BYTES, types: ['application/json'] });

/** Names go in URLs and menus: letters, digits, `_`, `-`, `.`, up to 64. */
const segmentName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$');
/** A site keeps at most this many: the console lists them all in one menu. */
export const SEGMENTS_MAX = 200;
const segmentBody = z.object({
  filters: z.record(z.string().max(80), z.array(z.string()).min(1).max(100)),
});

const notFound = () =>
  new HttpError(404, 'not_found', 'no saved segment with this name', [{ field: 'name', message: 'no such segment' }]);

export function segmentRoutes(deps: Deps): Router {
  const { store, intake } = deps;
  const r = Router();
  const siteOf = (res: { locals: Record<string, unknown> }) => (res.locals.site as Site).key;
  const nameOf = (raw: unknown) => {
    const n = segmentName.safeParse(String(raw));
    if (!n.success)
      throw invalid(
        'invalid segment name',
        n.error.issues.map((i) => ({ field: 'name', message: i.message })),
      );
    return n.data;
  };
  const present = (name: string, filters: Record<string, string[]>) => ({ name, filters });

  r.get('/segments', async (_req, res) => {
    const all = await store.segments(siteOf(res));
    const names = Object.keys(all).sort();
    res.json({ segments: names.map((n) => present(n, all[n])) });
  });

  r.get('/segments/:name', async (req, res) => {
    const name = nameOf(req.params.name);
    const filters = (await store.segments(siteOf(res)))[name];
    if (!filters) throw notFound();
    res.json({ segment: present(name, filters) });
  });

  r.put('/segments/:name', body, async (req, res) => {
    const site = siteOf(res);
    const name = nameOf(req.params.name);
    const parsed = segmentBody.safeParse(req.body);
    if (!parsed.success)
      throw invalid('send {"filters": {"<parameter>": ["<value>", ...]}}', issueDetails(parsed.error.issues));
    const filters = parsed.data.filters;
    // The same parser as the lists' query parameters: what saves is what a list can apply.
    try {
      parseSegment(segmentQuery(filters), ['user', 'account', 'feedback'], new Set());
    } catch (err) {
      if (err instanceof FilterError)
        throw invalid('invalid segment filters', [{ field: `filters.${err.field}`, message: err.message }]);
      throw err;
    }
    const existing = await store.segments(site);
    if (!(name in existing) && Object.keys(existing).length >= SEGMENTS_MAX)
      throw invalid('too many segments', [{ field: 'name', message: `a site keeps at most ${SEGMENTS_MAX} segments` }]);
    const done = await intake.transact<{ existed: boolean }>({ op: 'segment', site, name, filters });
    res.status(done.existed ? 200 : 201).json({ segment: present(name, filters) });
  });

  r.delete('/segments/:name', async (req, res) => {
    const name = nameOf(req.params.name);
    const done = await intake.transact<{ existed: boolean }>({ op: 'segment', site: siteOf(res), name, filters: null });
    if (!done.existed) throw notFound();
    res.status(204).end();
  });

  r.get('/nps', async (req, res) => {
    const site = siteOf(res);
    const segment = await segmentOf(req.query, 'nps', async (n) => (await store.segments(site))[n]);
    res.json(npsReply(await store.npsWeeks(site, segment ?? emptySegment())));
  });

  return r;
}
