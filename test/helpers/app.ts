/**
 * The collector's app on a memory store and a memory log, listening on an ephemeral loopback
 * port through the production HTTP server (server/http/server.ts): for HTTP tests that need no
 * disk. The clock and the server's time limits are injectable.
 */
import pino from 'pino';
import { createApp } from '../../server/app.ts';
import { DEFAULTS } from '../../server/config.ts';
import { openEngine } from '../../server/engines/index.ts';
import type { HttpServerOptions } from '../../server/http/server.ts';
import { Intake } from '../../server/intake/intake.ts';
import { createSite } from '../../server/sites.ts';
import { listenForTests } from './http-server.ts';

export const ADMIN_KEY = 'admin-key-for-tests-0001';
export const ORIGIN = 'https://app.acme.test';

/** The in-memory engine, opened where every engine is (engines/index.ts), and an open intake on it. */
export async function memoryIntake(clock: () => number = Date.now) {
  const engine = await openEngine({ dataDir: null, clock });
  const intake = new Intake({
    store: engine.store,
    log: engine.log,
    applier: engine.applier,
    clock,
    maxQueueDepth: DEFAULTS.maxQueue,
  });
  await intake.open();
  return { store: engine.store, intake };
}

export async function memoryApp(clock: () => number = Date.now, serverOptions: Partial<HttpServerOptions> = {}) {
  const { store, intake } = await memoryIntake(clock);
  await createSite(store, { name: 'Acme', origins: [ORIGIN], siteKey: 'acme', adminKey: ADMIN_KEY });
  const app = createApp({ store, intake, clock, logger: pino({ level: 'silent' }) });
  const { server, url } = await listenForTests(app, serverOptions);

  /** Sends a request; bodies that are not strings are JSON-encoded. */
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(url + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, headers: res.headers, json, text };
  }
  const admin = (method: string, path: string, body?: unknown) =>
    call(method, '/api/v2/admin' + path, body, { authorization: `Bearer ${ADMIN_KEY}` });

  return {
    url,
    store,
    intake,
    call,
    admin,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
