/**
 * Limits and hygiene (issue 5): rate limits with a readable Retry-After, body size and content
 * types, security headers, no internals in any answer, no secrets in logs, pending retention,
 * and server timeouts against slow clients.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { openCollector } from '../../server/collector.ts';
import { DEFAULTS, loadConfig } from '../../server/config.ts';
import type { RateLimits } from '../../server/http/rate-limit.ts';
import { QueueFullError } from '../../server/intake/intake.ts';
import { createSite } from '../../server/sites.ts';
import { signIdentityToken } from '../../server/sign.ts';
import { memoryIntake } from '../helpers/app.ts';
import { post } from '../helpers/hostile.ts';
import { spawnCollector } from '../helpers/process.ts';

const ORIGIN = 'https://app.acme.test';
const ADMIN_KEY = 'admin-key-for-limits-0001';
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** The app on a memory store, with the given limits, a controllable clock and a captured log. */
async function app(limits: Partial<RateLimits> = {}, o: { trustProxy?: boolean } = {}) {
  const now = { t: Date.UTC(2026, 0, 1) };
  const clock = () => now.t;
  const { store, intake } = await memoryIntake(clock);
  const site = await createSite(store, {
    name: 'Acme',
    origins: [ORIGIN],
    siteKey: 'acme',
    adminKey: ADMIN_KEY,
    verification: 'optional',
  });
  const lines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _e, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  );
  const server = createApp({
    store,
    intake,
    clock,
    logger,
    rateLimits: { ...DEFAULTS.rateLimits, ...limits },
    trustProxy: o.trustProxy,
  }).listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stops.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const identify = (headers: Record<string, string> = {}, identity: object = { id: 'ann', email: 'ann@acme.test' }) =>
    post(
      `${url}/api/widget/v1/acme/identify`,
      {
        sent_at: now.t,
        identities: [{ message_id: 'm' + Math.random().toString(36).slice(2), observed_at: now.t, ...identity }],
      },
      { origin: ORIGIN, ...headers },
    );
  const stats = (key = ADMIN_KEY, headers: Record<string, string> = {}) =>
    fetch(`${url}/api/v2/admin/stats`, { headers: { authorization: `Bearer ${key}`, ...headers } });
  return { url, now, store, site, lines, identify, stats };
}

describe('rate limits', () => {
  it('answers 429 with a Retry-After in whole seconds, readable cross-origin, once an address is over its limit', async () => {
    const a = await app({ addressPerMinute: 3 });
    for (let i = 0; i < 3; i++) expect((await a.identify()).status).toBe(202);
    a.now.t += 20_000;
    const res = await a.identify();
    expect(res.status).toBe(429);
    expect(res.json.errors.type).toBe('rate_limited');
    expect(res.headers.get('retry-after')).toBe('40');
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('access-control-expose-headers')).toContain('Retry-After');
    a.now.t += 40_000;
    expect((await a.identify()).status).toBe(202);
  });

  it('limits a site key across addresses', async () => {
    const a = await app({ addressPerMinute: 100, sitePerMinute: 4 }, { trustProxy: true });
    for (let i = 0; i < 4; i++) expect((await a.identify({ 'x-forwarded-for': `203.0.113.${i}` })).status).toBe(202);
    expect((await a.identify({ 'x-forwarded-for': '203.0.113.99' })).status).toBe(429);
  });

  it('counts addresses from X-Forwarded-For only when trust proxy is on', async () => {
    const off = await app({ addressPerMinute: 2 });
    const spoofed = [];
    for (let i = 0; i < 3; i++) spoofed.push((await off.identify({ 'x-forwarded-for': `198.51.100.${i}` })).status);
    expect(spoofed).toEqual([202, 202, 429]);
    const on = await app({ addressPerMinute: 2 }, { trustProxy: true });
    const proxied = [];
    for (let i = 0; i < 3; i++) proxied.push((await on.identify({ 'x-forwarded-for': `198.51.100.${i}` })).status);
    expect(proxied).toEqual([202, 202, 202]);
  });

  it('limits admin requests per key, and guessing keys from one address too', async () => {
    const a = await app({ adminPerMinute: 2 });
    expect((await a.stats()).status).toBe(200);
    expect((await a.stats()).status).toBe(200);
    const over = await a.stats();
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(over.headers.get('access-control-allow-origin')).toBeNull();
    const guess = await app({ adminPerMinute: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await guess.stats(`guess-${i}-000000000000000`)).status);
    expect(statuses).toEqual([401, 401, 429]);
  });

  it('turns off completely with PARLEY_RATE_LIMIT=off', async () => {
    const config = loadConfig({ PARLEY_RATE_LIMIT: 'off' });
    const a = await app({
      enabled: config.PARLEY_RATE_LIMIT === 'on',
      addressPerMinute: 1,
      sitePerMinute: 1,
      adminPerMinute: 1,
    });
    for (let i = 0; i < 10; i++) expect((await a.identify()).status).toBe(202);
    for (let i = 0; i < 5; i++) expect((await a.stats()).status).toBe(200);
  });
});

describe('configuration', () => {
  it('has documented defaults sized for real browsers', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PARLEY_RATE_LIMIT: 'on',
      PARLEY_RATE_LIMIT_ADDRESS: 120,
      PARLEY_RATE_LIMIT_SITE: 6000,
      PARLEY_RATE_LIMIT_ADMIN: 600,
      PARLEY_TRUST_PROXY: false,
      PARLEY_PENDING_TTL_DAYS: 30,
      PARLEY_REQUEST_TIMEOUT_MS: 30_000,
      PARLEY_HEADERS_TIMEOUT_MS: 10_000,
    });
    expect(DEFAULTS.rateLimits).toMatchObject({ addressPerMinute: 120, sitePerMinute: 6000, adminPerMinute: 600 });
  });

  it('reads trust proxy as off, true, a hop count or a list of proxies', () => {
    expect(loadConfig({ PARLEY_TRUST_PROXY: 'off' }).PARLEY_TRUST_PROXY).toBe(false);
    expect(loadConfig({ PARLEY_TRUST_PROXY: 'true' }).PARLEY_TRUST_PROXY).toBe(true);
    expect(loadConfig({ PARLEY_TRUST_PROXY: '1' }).PARLEY_TRUST_PROXY).toBe(1);
    expect(loadConfig({ PARLEY_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).PARLEY_TRUST_PROXY).toBe('loopback, 10.0.0.0/8');
  });

  it('bounds the apply queue of a collector opened without options at the default the environment has', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-queue-'));
    const collector = await openCollector({ dataDir });
    stops.push(async () => {
      await collector.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    expect(loadConfig({}).PARLEY_MAX_QUEUE).toBe(DEFAULTS.maxQueue);
    const item = { message_id: 'q-1', version: [0, 1, 'q-1'], identity: { id: 'q', email: 'q@acme.test', traits: {} } };
    const batch = Array(DEFAULTS.maxQueue + 1).fill(item);
    await expect(collector.intake.identify('demo', batch as never)).rejects.toThrow(QueueFullError);
  });

  it('stops on a bad limit with one line naming the variable', () => {
    expect(() => loadConfig({ PARLEY_RATE_LIMIT_ADDRESS: 'lots' })).toThrow(/PARLEY_RATE_LIMIT_ADDRESS/);
    expect(() => loadConfig({ PARLEY_RATE_LIMIT: 'maybe' })).toThrow(/PARLEY_RATE_LIMIT/);
  });
});

describe('request bodies', () => {
  it('refuses a body over 64 KB with 413 before parsing, declared or streamed', async () => {
    const a = await app();
    const big = JSON.stringify({
      sent_at: 1,
      identities: [{ id: 'x', email: 'x@acme.test', name: 'y'.repeat(66_000) }],
    });
    const declared = await post(`${a.url}/api/widget/v1/acme/identify`, big, { origin: ORIGIN });
    expect(declared.status).toBe(413);
    expect(declared.json.errors.type).toBe('payload_too_large');
    const stream = new ReadableStream({
      start(ctl) {
        for (let i = 0; i < 20; i++) ctl.enqueue(new TextEncoder().encode('x'.repeat(4096)));
        ctl.close();
      },
    });
    const streamed = await fetch(`${a.url}/api/widget/v1/acme/identify`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
      headers: { 'content-type': 'text/plain', origin: ORIGIN },
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('accepts text/plain and application/json (with a charset), and refuses other types and compressed bodies with 415', async () => {
    const a = await app();
    const ok = { sent_at: a.now.t, identities: [{ message_id: 'ct-1', observed_at: a.now.t, email: 'ct@acme.test' }] };
    const url = `${a.url}/api/widget/v1/acme/identify`;
    expect((await post(url, ok, { origin: ORIGIN })).status).toBe(202);
    expect((await post(url, ok, { origin: ORIGIN, 'content-type': 'application/json; charset=utf-8' })).status).toBe(
      202,
    );
    for (const headers of <Record<string, string>[]>[
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'multipart/form-data; boundary=x' },
      { 'content-type': 'application/xml' },
      { 'content-type': 'text/plain', 'content-encoding': 'gzip' },
      { 'content-type': 'text/plain', 'content-encoding': 'deflate' },
      { 'content-type': 'text/plain', 'content-encoding': 'br' },
    ]) {
      const res = await post(url, ok, { origin: ORIGIN, ...headers });
      expect(res.status).toBe(415);
      expect(res.json.errors.type).toBe('unsupported_media_type');
    }
  });
});

describe('security headers and hygiene', () => {
  it('sends nosniff, no-referrer and no framing on every answer, and no-store on the API', async () => {
    const a = await app();
    for (const res of [
      await fetch(`${a.url}/healthz`),
      await fetch(`${a.url}/nope`),
      await a.stats(),
      await a.stats('wrong-key-00000000000000'),
    ]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
    expect((await a.stats()).headers.get('cache-control')).toBe('no-store');
  });

  it('puts a strict Content-Security-Policy on the admin console', async () => {
    const a = await app();
    const res = await fetch(`${a.url}/admin/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-eval');
  });

  it.each(['production', 'development', 'test'])(
    'never shows a stack trace or file path in an answer (NODE_ENV=%s)',
    async (env) => {
      const saved = process.env.NODE_ENV;
      process.env.NODE_ENV = env;
      try {
        const a = await app();
        a.store.getSite = async () => {
          throw new Error(`boom at /work/main/server/engines/embedded/memory-store.ts:42 secret=${ADMIN_KEY}`);
        };
        const res = await a.identify();
        expect(res.status).toBe(500);
        expect(res.json.errors.type).toBe('application_error');
        expect(res.text).not.toMatch(/boom|\/work\/|memory\.ts|at |secret/);
        const malformed = await post(`${a.url}/api/v2/admin/bulk_identify`, '{"identities": [', {
          authorization: `Bearer ${ADMIN_KEY}`,
          'content-type': 'application/json',
        });
        expect(malformed.status).toBe(400);
        expect(malformed.text).not.toMatch(/SyntaxError|position|\/work\//);
      } finally {
        process.env.NODE_ENV = saved;
      }
    },
  );

  it('never logs admin keys, identity tokens or query strings', async () => {
    const a = await app();
    const token = await signIdentityToken(
      a.site.identity_secret,
      { id: 'ann', email: 'ann@acme.test' },
      { now: a.now.t },
    );
    expect((await a.identify({}, { email: 'ann@acme.test', identity_token: token })).status).toBe(202);
    await a.stats();
    await fetch(`${a.url}/api/v2/admin/stats?key=${ADMIN_KEY}`);
    const log = a.lines.join('');
    expect(log).toContain('"path":"/api/v2/admin/stats"');
    for (const secret of [ADMIN_KEY, token, a.site.identity_secret]) expect(log).not.toContain(secret);
  });
});

describe('pending retention', () => {
  it('deletes pending identities older than the TTL, and the oldest beyond the per-site cap', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-retention-'));
    const now = { t: Date.UTC(2026, 0, 1) };
    const day = 24 * 60 * 60 * 1000;
    const collector = await openCollector({
      dataDir,
      clock: () => now.t,
      pendingTtlMs: 30 * day,
      pendingMax: 2,
      rateLimits: { ...DEFAULTS.rateLimits, enabled: false },
    });
    stops.push(async () => {
      await collector.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    await createSite(collector.store, { name: 'R', origins: [ORIGIN], siteKey: 'r' });
    const hold = async (id: string, account?: object) => {
      await collector.intake.identify('r', [
        {
          message_id: `m-${id}`,
          version: [0, now.t, id],
          identity: { id, email: `${id}@acme.test`, traits: {}, ...(account ? { account } : {}) } as never,
        },
      ]);
      await collector.intake.drained();
    };
    await hold('old', { id: 'old-co', traits: {} });
    now.t += 20 * day;
    await hold('mid');
    now.t += 5 * day;
    await hold('new1');
    now.t += day;
    await hold('new2');
    expect((await collector.store.counts('r')).pending_identities).toBe(4);
    await collector.prune();
    // Nothing is past 30 days yet; the cap of 2 drops the two oldest.
    expect((await collector.store.counts('r')).pending_identities).toBe(2);
    expect(await collector.store.getPending('r', 'old')).toBeUndefined();
    expect(await collector.store.getPending('r', 'new2')).toBeDefined();
    now.t += 31 * day;
    await collector.prune();
    expect((await collector.store.counts('r')).pending_identities).toBe(0);
    expect(await collector.store.getPendingAccount('r', 'old-co')).toBeUndefined();
  });
});

describe('slow clients', () => {
  it('closes a connection whose headers never finish', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-slow-'));
    const { child, ready } = spawnCollector({
      PARLEY_DATA_DIR: dataDir,
      PARLEY_HEADERS_TIMEOUT_MS: '1000',
      PARLEY_REQUEST_TIMEOUT_MS: '2000',
    });
    stops.push(async () => {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    });
    const port = Number(new URL(await ready).port);
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
    });
    socket.write('POST /api/widget/v1/demo/identify HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const closed = await new Promise<boolean>((resolve) => {
      socket.once('close', () => resolve(true));
      // Far beyond the 1 s limit plus the 1 s check interval: only a hung socket gets here.
      setTimeout(() => resolve(false), 15_000);
    });
    socket.destroy();
    expect(closed).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  }, 30_000);
});
