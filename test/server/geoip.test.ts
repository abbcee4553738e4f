/**
 * Location from the request (README "Location"): the country of the client address, from the
 * country database an npm package ships, through a trusted proxy's X-Forwarded-For (a loopback
 * test client cannot be located otherwise); never the address itself, stored or logged. Also
 * the /v1 routes' 429 under the existing rate limits.
 */
import { Writable } from 'node:stream';
import { createRequire } from 'node:module';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { createGeoip, locationOf } from '../../server/http/geoip.ts';
import type { RateLimits } from '../../server/http/rate-limit.ts';
import { createSite, rotateWriteKey, setSiteSettings } from '../../server/sites.ts';
import { memoryIntake, ORIGIN } from '../helpers/app.ts';
import { listenForTests } from '../helpers/http-server.ts';

/** 81.2.69.160 is in a block registered in Great Britain (the shipped database says GB). */
const GB_ADDRESS = '81.2.69.160';
const IE_ADDRESS_V6 = '2a00:1450:4001::1';

let stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.map((s) => s()));
  stops = [];
});

async function collector(o: { trustProxy?: boolean | string; rateLimits?: RateLimits } = {}) {
  const { store, intake } = await memoryIntake();
  await createSite(store, { name: 'Acme', origins: [ORIGIN], siteKey: 'acme' });
  const writeKey = (await rotateWriteKey(store, 'acme')).write_key;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const app = createApp({
    store,
    intake,
    clock: Date.now,
    logger: pino({ level: 'trace' }, sink),
    trustProxy: o.trustProxy ?? 'loopback',
    rateLimits: o.rateLimits,
  });
  const { server, url } = await listenForTests(app);
  stops.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const identify = (identity: Record<string, unknown>, from?: string) =>
    fetch(`${url}/api/widget/v1/acme/identify`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: ORIGIN, ...(from ? { 'x-forwarded-for': from } : {}) },
      body: JSON.stringify({
        sent_at: Date.now(),
        identities: [{ message_id: `m-${Math.random()}`, observed_at: Date.now(), ...identity }],
      }),
    });
  const pending = async (id: string) => {
    await intake.drained();
    return (await store.getPending('acme', id))?.profile.f;
  };
  return { store, intake, url, writeKey, lines, identify, pending };
}

describe('location from the request', () => {
  it('stores the country of the address a trusted proxy names, and never the address', async () => {
    const c = await collector();
    expect((await c.identify({ id: 'p1', email: 'p1@acme.test' }, GB_ADDRESS)).status).toBe(202);
    expect((await c.identify({ id: 'p2', email: 'p2@acme.test' }, IE_ADDRESS_V6)).status).toBe(202);
    expect((await c.pending('p1'))?.location).toEqual({ country: 'GB' });
    expect((await c.pending('p2'))?.location).toEqual({ country: 'IE' });
    const stored = JSON.stringify([await c.store.getPending('acme', 'p1'), await c.store.listSites()]);
    expect(stored).not.toContain(GB_ADDRESS);
    expect(c.lines.length).toBeGreaterThan(0);
    expect(c.lines.join('')).not.toContain(GB_ADDRESS);
    expect(c.lines.join('')).not.toContain('2a00:1450');
  });

  it('keeps a location the page supplied', async () => {
    const c = await collector();
    await c.identify({ id: 'p3', email: 'p3@acme.test', location: { country: 'DE', city: 'Berlin' } }, GB_ADDRESS);
    expect((await c.pending('p3'))?.location).toEqual({ country: 'DE', city: 'Berlin' });
  });

  it('locates nobody on a site that turned it off, or from an untrusted X-Forwarded-For', async () => {
    const c = await collector();
    await setSiteSettings(c.store, 'acme', { geoip: false });
    await c.identify({ id: 'p4', email: 'p4@acme.test' }, GB_ADDRESS);
    expect(await c.pending('p4')).not.toHaveProperty('location');
    const untrusting = await collector({ trustProxy: false });
    await untrusting.identify({ id: 'p5', email: 'p5@acme.test' }, GB_ADDRESS);
    expect(await untrusting.pending('p5')).not.toHaveProperty('location');
  });

  it('locates a /v1 identify by the person’s address in context.ip, not the sending server’s', async () => {
    const c = await collector();
    const res = await fetch(`${c.url}/v1/identify`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Basic ' + Buffer.from(c.writeKey + ':').toString('base64'),
      },
      body: JSON.stringify({ userId: 'p6', traits: { email: 'p6@acme.test' }, context: { ip: GB_ADDRESS } }),
    });
    expect(res.status).toBe(202);
    expect((await c.pending('p6'))?.location).toEqual({ country: 'GB' });
    expect(JSON.stringify(await c.store.getPending('acme', 'p6'))).not.toContain(GB_ADDRESS);
  });
});

describe('createGeoip', () => {
  it('reads another mmdb when given one, and turns lookups off when it cannot', async () => {
    const ipv4Only = createRequire(import.meta.url).resolve(
      '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-ipv4.mmdb',
    );
    expect(createGeoip({ cityDb: ipv4Only }).locate(GB_ADDRESS)).toEqual({ country: 'GB' });
    const errors: unknown[] = [];
    const broken = createGeoip({ cityDb: '/nonexistent.mmdb', onError: (e) => errors.push(e) });
    expect(broken.locate(GB_ADDRESS)).toBeUndefined();
    expect(broken.locate(GB_ADDRESS)).toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('locates nothing for loopback, private or malformed addresses', () => {
    const g = createGeoip();
    for (const a of ['127.0.0.1', '::1', '10.0.0.1', 'not-an-ip', '', undefined]) expect(g.locate(a)).toBeUndefined();
    expect(g.locate('::ffff:' + GB_ADDRESS)).toEqual({ country: 'GB' });
  });

  it('maps a MaxMind City record to country, region and city', () => {
    expect(
      locationOf({
        country: { iso_code: 'DE' },
        subdivisions: [{ iso_code: 'BE' }],
        city: { names: { en: 'Berlin' } },
      }),
    ).toEqual({ country: 'DE', region: 'BE', city: 'Berlin' });
    expect(locationOf({ country_code: 'zz1' })).toBeUndefined();
  });
});

describe('/v1 rate limits', () => {
  it('answers 429 with Retry-After past the per-key limit', async () => {
    const c = await collector({
      rateLimits: { enabled: true, addressPerMinute: 100, sitePerMinute: 100, adminPerMinute: 2 },
    });
    const send = () =>
      fetch(`${c.url}/v1/identify`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Basic ' + Buffer.from(c.writeKey + ':').toString('base64'),
        },
        body: JSON.stringify({ userId: 'r', traits: { email: 'r@acme.test' } }),
      });
    expect((await send()).status).toBe(202);
    expect((await send()).status).toBe(202);
    const limited = await send();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
