// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type ClientOptions } from '../../widget/client.ts';
import { createStorage } from '../../widget/storage.ts';
import { silent } from '../../widget/log.ts';
import { fakeTransport, memoryStorage } from './fakes.ts';

const ann = { id: '123', email: 'Ann@Acme.test', name: 'Ann', account: { id: 'acme', monthly_rate: 99.5 } };
const bob = { id: 'b', email: 'bob@acme.test' };

function setup(script: Parameters<typeof fakeTransport>[0] = [], disk = memoryStorage(), extra: Partial<ClientOptions> = {}) {
  const fake = fakeTransport(script);
  const client = createClient({
    site: 'demo', origin: 'https://c.test', transport: fake.transport,
    storage: createStorage(() => disk, silent), random: () => 0.5, log: silent, ...extra,
  });
  return { ...fake, client, disk };
}

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe('identify', () => {
  it('sends ten identical identifies as one request', async () => {
    const { client, sent } = setup();
    for (let i = 0; i < 10; i++) client.identify(ann);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(1);
    expect(sent[0].url).toBe('https://c.test/api/widget/v1/demo/identify');
    expect(sent[0].body.identities).toHaveLength(1);
    expect(sent[0].body.identities[0]).toMatchObject({ id: '123', email: 'ann@acme.test', account: { id: 'acme', monthly_rate: 99.5 } });
    expect(sent[0].body.identities[0].message_id).toMatch(/^[A-Za-z0-9_.:-]{1,64}$/);
  });

  it('sends nothing for an unchanged identity after a reload', async () => {
    const first = setup();
    first.client.identify(ann);
    await vi.runAllTimersAsync();
    const second = setup([], first.disk);
    second.client.identify(ann);
    await vi.runAllTimersAsync();
    expect(first.sent).toHaveLength(1);
    expect(second.sent).toHaveLength(0);
  });

  it('sends the same identity again once 24 hours have passed', async () => {
    const first = setup();
    first.client.identify(ann);
    await vi.runAllTimersAsync();
    vi.setSystemTime(Date.now() + 24 * 3600e3 + 1);
    const second = setup([], first.disk);
    second.client.identify(ann);
    await vi.runAllTimersAsync();
    expect(second.sent).toHaveLength(1);
  });

  it('sends a changed identity after a reload', async () => {
    const first = setup();
    first.client.identify(ann);
    await vi.runAllTimersAsync();
    const second = setup([], first.disk);
    second.client.identify({ ...ann, account: { id: 'acme', monthly_rate: 199 } });
    await vi.runAllTimersAsync();
    expect(second.identities()[0].account.monthly_rate).toBe(199);
  });

  it('coalesces identities per user, latest wins, in one request', async () => {
    const { client, sent } = setup();
    client.identify(ann);
    client.identify({ ...ann, name: 'Ann B.' });
    client.identify(bob);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(1);
    expect(sent[0].body.identities.map((i: any) => [i.id, i.name])).toEqual([['123', 'Ann B.'], ['b', undefined]]);
  });

  it('waits for the batch delay before sending', async () => {
    const { client, sent } = setup();
    client.identify(ann);
    await vi.advanceTimersByTimeAsync(900);
    expect(sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(sent).toHaveLength(1);
  });

  it('splits more than 20 users into requests of at most 20', async () => {
    const { client, sent } = setup();
    for (let i = 0; i < 45; i++) client.identify({ id: `u${i}`, email: `u${i}@x.test` });
    await vi.runAllTimersAsync();
    expect(sent.map((s) => s.body.identities.length)).toEqual([20, 20, 5]);
  });

  it('keeps every request under 64 KB', async () => {
    const { client, sent } = setup();
    const big = 'x'.repeat(1000);
    for (let i = 0; i < 20; i++) {
      const traits = Object.fromEntries(Array.from({ length: 5 }, (_, n) => [`cf_t${n}`, big]));
      client.identify({ id: `u${i}`, email: `u${i}@x.test`, ...traits });
    }
    await vi.runAllTimersAsync();
    expect(sent.length).toBeGreaterThan(1);
    for (const s of sent) expect(new TextEncoder().encode(JSON.stringify(s.body)).length).toBeLessThanOrEqual(65536);
    expect(sent.flatMap((s) => s.body.identities)).toHaveLength(20);
  });

  it('adds the time zone and locale, and keeps only known fields and cf_ traits', async () => {
    const { client, identities } = setup([], memoryStorage(), { env: () => ({ timezone: 'Europe/Berlin', locale: 'de-DE' }) });
    client.identify({ ...ann, id: 42, cf_persona: 'dev', password: 'x', cf_obj: { a: 1 }, location: { country: 'DE', x: 1 } });
    await vi.runAllTimersAsync();
    const sentIdentity = identities()[0];
    expect(sentIdentity).toMatchObject({ id: '42', timezone: 'Europe/Berlin', locale: 'de-DE', cf_persona: 'dev', location: { country: 'DE' } });
    expect(sentIdentity).not.toHaveProperty('password');
    expect(sentIdentity).not.toHaveProperty('cf_obj');
    expect(sentIdentity.location).not.toHaveProperty('x');
  });

  it('ignores identities without an email', async () => {
    const { client, sent } = setup();
    client.identify({ id: '1' });
    client.identify('ann@acme.test');
    client.identify(null);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(0);
  });

  it('does not throttle an identity the collector rejected', async () => {
    const first = setup([{ status: 202, body: { status: 'queued', accepted: 0, rejected: [{ index: 0, errors: [] }] } }]);
    first.client.identify(ann);
    await vi.runAllTimersAsync();
    const second = setup([], first.disk);
    second.client.identify(ann);
    await vi.runAllTimersAsync();
    expect(second.sent).toHaveLength(1);
  });
});

describe('delivery', () => {
  it('retries a 503 with the same message_id until it succeeds', async () => {
    const { client, sent } = setup([503, 503]);
    client.identify(ann);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(3);
    const ids = sent.map((s) => s.body.identities[0].message_id);
    expect(new Set(ids).size).toBe(1);
  });

  it('backs off exponentially with jitter between retries', async () => {
    const { client, sent } = setup([0, 0, 0]);
    client.identify(ann);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toHaveLength(1);
    // random() = 0.5: waits 500 ms, then 1000 ms, then 2000 ms.
    await vi.advanceTimersByTimeAsync(499);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent).toHaveLength(4);
  });

  it('honours Retry-After on 429', async () => {
    const { client, sent } = setup([{ status: 429, retryAfter: '30' }]);
    client.identify(ann);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
  });

  it('does not let a new identify jump a pending Retry-After', async () => {
    const { client, sent } = setup([{ status: 503, retryAfter: '10' }]);
    client.identify(ann);
    await vi.advanceTimersByTimeAsync(1000);
    client.identify(bob);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toHaveLength(2);
    expect(sent[1].body.identities).toHaveLength(2);
  });

  it('drops a batch on 400 and does not retry it', async () => {
    const { client, sent } = setup([400]);
    client.identify(ann);
    await vi.runAllTimersAsync();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(sent).toHaveLength(1);
  });

  it('does not retry 501', async () => {
    const { client, sent } = setup([501]);
    client.identify(ann);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(1);
  });

  it('re-sends an undelivered identity on the next page load with the same message_id', async () => {
    const first = setup([0, 0, 0, 0, 0, 0]);
    first.client.identify(ann);
    await vi.advanceTimersByTimeAsync(1000);
    expect(first.sent).toHaveLength(1);
    const second = setup([], first.disk); // the reload: a new client over the same storage
    second.client.identify(ann);
    await vi.advanceTimersByTimeAsync(1000);
    expect(second.sent).toHaveLength(1);
    expect(second.sent[0].body.identities[0].message_id).toBe(first.sent[0].body.identities[0].message_id);
    const third = setup([], first.disk);
    third.client.identify(ann);
    await vi.runAllTimersAsync();
    expect(third.sent).toHaveLength(0);
  });

  it('keeps working in memory when storage throws', async () => {
    const broken = memoryStorage();
    broken.setItem = () => { throw new DOMException('full', 'QuotaExceededError'); };
    broken.getItem = () => { throw new DOMException('no', 'SecurityError'); };
    const { client, sent } = setup([503], broken);
    for (let i = 0; i < 3; i++) client.identify(ann);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(2);
    expect(sent[1].body.identities).toHaveLength(1);
  });

  it('hands queued items to sendBeacon when the page hides', async () => {
    const { client, sent } = setup();
    client.identify(ann);
    client.flushOnHide();
    expect(sent).toEqual([expect.objectContaining({ via: 'beacon', url: 'https://c.test/api/widget/v1/demo/identify' })]);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(1);
  });

  it('falls back to keepalive fetch when sendBeacon refuses', async () => {
    const { client, sent, refuseBeacons } = setup();
    refuseBeacons();
    client.identify(ann);
    client.flushOnHide();
    await vi.runAllTimersAsync();
    expect(sent).toEqual([expect.objectContaining({ via: 'fetch', keepalive: true })]);
  });
});

describe('feedback', () => {
  it('sends feedback with the current identity and answers sent', async () => {
    const { client, sent } = setup([], memoryStorage(), { pageUrl: () => 'https://app.test/settings' });
    client.identify(ann);
    const result = await client.sendFeedback({ kind: 'idea', title: 'Dark mode', body: '', email: 'x@y.test' });
    expect(result).toBe('sent');
    const fb = sent.find((s) => s.url.endsWith('/feedback'))!;
    expect(fb.body).toMatchObject({ kind: 'idea', title: 'Dark mode', page_url: 'https://app.test/settings', identity: { id: '123', email: 'ann@acme.test' } });
    expect(fb.body).not.toHaveProperty('email');
    expect(fb.body).not.toHaveProperty('body');
  });

  it('answers queued when offline and delivers later with the same message_id', async () => {
    const { client, sent } = setup([0]);
    const result = await client.sendFeedback({ kind: 'comment', body: 'Nice', email: 'x@y.test' });
    expect(result).toBe('queued');
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(2);
    expect(sent[1].body.message_id).toBe(sent[0].body.message_id);
    expect(sent[1].body.email).toBe('x@y.test');
  });

  it('answers failed when the collector refuses it', async () => {
    const { client } = setup([422]);
    expect(await client.sendFeedback({ kind: 'nps', score: 11 })).toBe('failed');
  });

  it('carries nobody\'s identity after logout', async () => {
    const { client, sent } = setup();
    client.identify(ann);
    client.logout();
    await client.sendFeedback({ kind: 'comment', body: 'hi', email: 'guest@x.test' });
    const fb = sent.find((s) => s.url.endsWith('/feedback'))!;
    expect(fb.body).not.toHaveProperty('identity');
    expect(fb.body.email).toBe('guest@x.test');
    expect(client.identity()).toBeNull();
  });

  it('identifies the next user after logout', async () => {
    const { client, identities } = setup();
    client.identify(ann);
    await vi.runAllTimersAsync();
    client.logout();
    client.identify(bob);
    await vi.runAllTimersAsync();
    expect(identities().map((i: any) => i.id)).toEqual(['123', 'b']);
    expect(client.identity()?.id).toBe('b');
  });

  it('passes an ideas search through to the collector', async () => {
    const { client, setIdeas } = setup();
    setIdeas([{ id: 'i1', title: 'Dark mode', supporters_count: 3 }, { bogus: true }]);
    expect(await client.searchIdeas('dark')).toEqual({ ideas: [{ id: 'i1', title: 'Dark mode', supporters_count: 3 }, { bogus: true }] });
  });
});
