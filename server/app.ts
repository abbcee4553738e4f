/**
 * createApp builds the collector's Express app from its parts and never listens: tests run it
 * on an ephemeral port with the in-memory engine, main.ts (through openCollector) with the
 * engine the environment names (engines/index.ts).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type ErrorRequestHandler } from 'express';
import { WIDGET_API_PREFIX } from '../shared/limits.ts';
import { DEFAULTS } from './config.ts';
import { errorHandler, HttpError, notFound } from './http/errors.ts';
import { createGeoip } from './http/geoip.ts';
import { adminRateLimit, publicRateLimit } from './http/rate-limit.ts';
import { securityHeaders } from './http/security.ts';
import { QueueFullError } from './intake/intake.ts';
import { adminRoutes } from './routes/admin.ts';
import type { Deps } from './routes/deps.ts';
import { segmentRoutes } from './routes/segment-v1.ts';
import { widgetRoutes } from './routes/widget.ts';
import { ROOT } from './paths.ts';

export type { Deps } from './routes/deps.ts';

/** Static files are served with a short cache: the widget changes on deploy, not per page. */
const staticOptions = { maxAge: '5m', index: 'index.html', fallthrough: true } as const;

/** The collector's Express app on `deps`; the caller listens. */
export function createApp(given: Deps) {
  // One geoip reader for every route that locates (it holds its database in memory).
  const deps: Deps = { ...given, geoip: given.geoip ?? createGeoip() };
  const app = express();
  const dist = deps.distDir ?? join(ROOT, 'dist');
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', deps.trustProxy ?? DEFAULTS.trustProxy);
  const limits = deps.rateLimits ?? DEFAULTS.rateLimits;
  app.use(securityHeaders);

  app.use((req, res, next) => {
    const id = randomUUID();
    const start = process.hrtime.bigint();
    res.setHeader('X-Request-Id', id);
    res.on('finish', () => {
      deps.logger.info(
        {
          req_id: id,
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - start) / 1e6,
        },
        'request',
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', queue: { depth: deps.intake.depth() } });
  });

  app.use(WIDGET_API_PREFIX.slice(0, -1), widgetRoutes(deps, publicRateLimit(limits, deps.clock, deps.sharedLimits)));
  app.use('/api/v2/admin', adminRateLimit(limits, deps.clock, deps.sharedLimits), adminRoutes(deps));
  // Segment's tracking API: a server sends with a key, as the admin API is called, so it is limited the same way.
  app.use('/v1', adminRateLimit(limits, deps.clock, deps.sharedLimits, 'v1'), segmentRoutes(deps));

  const file = (name: string) => (_req: express.Request, res: express.Response) => {
    const path = join(dist, name);
    if (!existsSync(path)) throw new HttpError(503, 'unavailable', `${name} is not built; run npm run build`);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.sendFile(path, { maxAge: '5m' });
  };
  app.get('/widget.js', file('widget.js'));
  app.get('/widget.debug.js', file('widget.debug.js'));
  app.get('/panel.js', file('panel.js'));
  app.get('/sources.js', file('sources.js')); // read-from-page identities, only where the embed opts in
  app.use('/demo', express.static(join(ROOT, 'demo'), staticOptions));
  app.use(
    '/admin',
    express.static(join(dist, 'admin'), staticOptions),
    express.static(join(ROOT, 'server', 'console', 'public'), staticOptions),
  );
  app.get('/', (_req, res) => {
    res.redirect('/demo/');
  });

  app.use(notFound);
  const overloaded: ErrorRequestHandler = (err, _req, _res, next) => {
    next(
      err instanceof QueueFullError
        ? new HttpError(503, 'unavailable', 'the collector is catching up; retry shortly', [], 2)
        : err,
    );
  };
  app.use(overloaded);
  app.use(
    errorHandler((err, req) => deps.logger.error({ err, path: (req as express.Request).path }, 'request failed')),
  );
  return app;
}
