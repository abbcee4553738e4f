/**
 * Origins and CORS (docs/API.md#http-api, issue 5): exact origins and one-label wildcards parsed with
 * URL, `Origin: null` refused, CORS headers on every public answer (errors included), none on
 * admin routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originMatches, normalizeOriginPattern } from '../../server/http/origins.ts';
import { createSite, type CreatedSite } from '../../server/sites.ts';
import { startCollector, type TestCollector } from '../helpers/collector.ts';
import { identify, post, stored } from '../helpers/hostile.ts';

let c: TestCollector;
let site: CreatedSite;
beforeAll(async () => {
  c = await startCollector();
  site = await createSite(c.collector.store, {
    name: 'Wild',
    origins: ['https://app.acme.test', 'https://*.Example.com'],
  });
});
afterAll(async () => {
  await c.stop();
});

const ann = { id: 'ann', email: 'ann@acme.test' };

describe('allowed origins', () => {
  it('answers an exact origin with CORS headers that expose Retry-After', async () => {
    const res = await identify(c, site.site_key, [ann], { origin: 'https://app.acme.test' });
    expect(res.status).toBe(202);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.acme.test');
    expect(res.headers.get('access-control-expose-headers')).toContain('Retry-After');
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('answers any one-label subdomain of a wildcard origin', async () => {
    for (const origin of ['https://shop.example.com', 'https://a-1.example.com']) {
      const res = await identify(c, site.site_key, [ann], { origin });
      expect(res.status).toBe(202);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });

  it('answers a request without Origin (a backend, not a browser) without CORS headers', async () => {
    const res = await identify(c, site.site_key, [ann], { origin: '' });
    expect(res.status).toBe(202);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('refused origins', () => {
  const lookAlikes = [
    'null',
    'https://evil.test',
    'https://app.acme.test.evil.test',
    'https://evilapp.acme.test',
    'http://app.acme.test',
    'https://app.acme.test:8443',
    'https://APP.ACME.TEST',
    'https://app.acme.test/',
    'https://example.com',
    'https://evilexample.com',
    'https://example.com.evil.test',
    'https://shop.example.com.evil.test',
    'https://a.b.example.com',
    'http://shop.example.com',
    'https://shop.example.com:444',
    'https://.example.com',
    'file://',
    'chrome-extension://abcdef',
    'not a url',
  ];

  it.each(lookAlikes)('refuses %s with 403, without CORS headers, and writes nothing', async (origin) => {
    const before = await stored(c, site.site_key);
    const res = await identify(c, site.site_key, [ann], { origin });
    expect(res.status).toBe(403);
    expect(res.json.errors.type).toBe('forbidden');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(await stored(c, site.site_key)).toEqual(before);
  });

  it('refuses a preflight from an unlisted origin', async () => {
    const res = await fetch(`${c.url}/api/widget/v1/${site.site_key}/identify`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS on error answers', () => {
  const from = { origin: 'https://app.acme.test' };

  it('carries CORS headers on 400, 413 and 415 from an allowed origin', async () => {
    const url = `${c.url}/api/widget/v1/${site.site_key}/identify`;
    for (const [res, status] of [
      [await post(url, '{"sent_at":', from), 400],
      [await post(url, 'x'.repeat(70_000), from), 413],
      [await post(url, '{}', { ...from, 'content-type': 'application/x-www-form-urlencoded' }), 415],
    ] as const) {
      expect(res.status).toBe(status);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://app.acme.test');
      expect(res.headers.get('access-control-expose-headers')).toContain('Retry-After');
    }
  });

  it('lets any page read the 404 of an unknown site, so a mistyped site key is not retried', async () => {
    const res = await identify(c, 'no-such-site', [ann], from);
    expect(res.status).toBe(404);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('admin routes', () => {
  it('send no CORS headers at all, not even to an origin the site allows', async () => {
    const get = await fetch(`${c.url}/api/v2/admin/stats`, {
      headers: { authorization: `Bearer ${c.adminKey}`, origin: c.url },
    });
    expect(get.status).toBe(200);
    const preflight = await fetch(`${c.url}/api/v2/admin/stats`, {
      method: 'OPTIONS',
      headers: { origin: c.url, 'access-control-request-method': 'GET' },
    });
    for (const res of [get, preflight]) {
      for (const h of ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers']) {
        expect(res.headers.get(h)).toBeNull();
      }
    }
  });
});

describe('origin patterns', () => {
  it('normalizes entries the way browsers send origins', () => {
    expect(normalizeOriginPattern('https://App.Acme.test:443/')).toBe('https://app.acme.test');
    expect(normalizeOriginPattern('https://*.Example.com')).toBe('https://*.example.com');
    expect(normalizeOriginPattern('http://*.example.com:8080')).toBe('http://*.example.com:8080');
  });

  it('refuses wildcards over a bare TLD or an address, and non-http schemes', () => {
    for (const bad of [
      'https://*.com',
      'https://*.127.0.0.1',
      'ftp://example.com',
      'null',
      'https://user:pw@example.com',
    ]) {
      expect(() => normalizeOriginPattern(bad)).toThrow();
    }
  });

  it('creates no site with a malformed origin', async () => {
    await expect(createSite(c.collector.store, { name: 'Bad', origins: ['https://*.com'] })).rejects.toThrow(
      /two labels/,
    );
  });

  it('matches by parsed parts, never by suffix', () => {
    const list = ['https://*.example.com', 'http://localhost:3000'];
    expect(originMatches(list, 'https://x.example.com')).toBe(true);
    expect(originMatches(list, 'http://localhost:3000')).toBe(true);
    expect(originMatches(list, 'http://localhost:30000')).toBe(false);
    expect(originMatches(list, 'https://xexample.com')).toBe(false);
    expect(originMatches(list, 'https://x.example.com@evil.test')).toBe(false);
    expect(originMatches(list, 'null')).toBe(false);
  });
});
