/**
 * Helpers for the trust and hostile-input tests: widget-style requests with an Origin header,
 * extra sites in a given verification mode, and snapshots of what a collector has stored.
 */
import { randomUUID } from 'node:crypto';
import { DEFAULTS } from '../../server/config.ts';
import { createSite } from '../../server/sites.ts';
import type { Verification } from '../../server/core/records.ts';
import { startCollector, type TestCollector } from './collector.ts';

export interface Sent {
  status: number;
  headers: Headers;
  json: any;
  text: string;
}

export async function post(url: string, body: string | object, headers: Record<string, string> = {}): Promise<Sent> {
  const res = await fetch(url, {
    method: 'POST',
    // An empty value leaves the header out (e.g. `origin: ''` for a request that is not a browser's).
    headers: Object.fromEntries(
      Object.entries({ 'content-type': 'text/plain', ...headers }).filter(([, v]) => v !== ''),
    ),
    body: typeof body === 'string' ? body : JSON.stringify(body),
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

/** One widget identify request with the given items (message_id/observed_at added). */
export function identify(c: TestCollector, site: string, items: object[], headers: Record<string, string> = {}) {
  const now = Date.now();
  return post(
    `${c.url}/api/widget/v1/${site}/identify`,
    {
      sent_at: now,
      identities: items.map((i) => ({ message_id: 'm-' + randomUUID(), observed_at: now, ...i })),
    },
    { origin: c.url, ...headers },
  );
}

export function feedback(c: TestCollector, site: string, body: object, headers: Record<string, string> = {}) {
  return post(
    `${c.url}/api/widget/v1/${site}/feedback`,
    { message_id: 'f-' + randomUUID(), ...body },
    { origin: c.url, ...headers },
  );
}

/** An admin call with the site's key (the demo site's by default). */
export async function admin(c: TestCollector, method: string, path: string, body?: unknown, key = c.adminKey) {
  const res = await fetch(c.url + '/api/v2/admin' + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

/** A second site on the collector, in the given mode, allowing the collector's own origin. */
export async function addSite(c: TestCollector, verification: Verification, origins: string[] = [c.url]) {
  return createSite(c.collector.store, { name: `Site ${verification}`, origins, verification });
}

/** Everything a site holds, as counts, once the queue has drained. */
export async function stored(c: TestCollector, site: string) {
  await c.collector.intake.drained();
  return c.collector.store.counts(site);
}

/**
 * Like startCollector, but with rate limits off: for tests that send hundreds of requests from
 * one address (the corpus, property tests), where a 429 would hide the answer under test.
 */
export function startUnlimitedCollector(): Promise<TestCollector> {
  return startCollector({ rateLimits: { ...DEFAULTS.rateLimits, enabled: false } });
}
