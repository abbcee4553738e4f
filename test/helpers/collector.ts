/**
 * A real collector for tests: the production wiring (openCollector: lock, lowdb store, intake
 * log; the HTTP server of server/http/server.ts) on a temporary data directory, listening on an
 * ephemeral loopback port.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCollector } from '../../server/collector.ts';
import type { RateLimits } from '../../server/http/rate-limit.ts';
import { listenForTests } from './http-server.ts';

export interface TestCollector {
  url: string;
  siteKey: string;
  adminKey: string;
  dataDir: string;
  collector: Awaited<ReturnType<typeof openCollector>>;
  /** GET an admin route as JSON. */
  admin(path: string): Promise<any>;
  /** Any admin request, JSON in and out, with its status. */
  send(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

export async function startCollector(
  opts: {
    origins?: string[];
    dataDir?: string;
    keepData?: boolean;
    rateLimits?: RateLimits;
    /** How often to checkpoint (which also trims the intake log). @default 1000 */
    checkpointMs?: number;
  } = {},
): Promise<TestCollector> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'parley-test-'));
  const adminKey = 'test-admin-key-0123456789';
  const collector = await openCollector({
    dataDir,
    demoAdminKey: adminKey,
    checkpointMs: opts.checkpointMs ?? 1000,
    rateLimits: opts.rateLimits,
  });
  const { server, url } = await listenForTests(collector.app);
  await collector.ensureDemoSite([url, url.replace('127.0.0.1', 'localhost'), ...(opts.origins ?? [])]);
  return {
    url,
    siteKey: 'demo',
    adminKey,
    dataDir,
    collector,
    async admin(path: string) {
      const res = await fetch(url + '/api/v2/admin' + path, { headers: { authorization: `Bearer ${adminKey}` } });
      return res.json();
    },
    async send(method: string, path: string, body?: unknown) {
      const res = await fetch(url + '/api/v2/admin' + path, {
        method,
        headers: {
          authorization: `Bearer ${adminKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: await res.json() };
    },
    async stop() {
      server.closeAllConnections();
      await collector.close(server);
      if (!opts.dataDir && !opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
