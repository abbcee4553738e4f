// @vitest-environment happy-dom
/**
 * The browser's time zone and locale: read only once the page is idle (a page's first Intl call
 * costs ~50 ms), from Temporal when the browser has it, and added exactly as before, so the
 * throttle entries earlier versions stored stay valid.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { boot } from '../../widget/boot.ts';
import { environment, fingerprint, normalizeIdentity, withEnvironment } from '../../widget/identity.ts';
import { mount } from '../../widget/panel/host.ts';
import { ann, setup } from './harness.ts';
import { fakeTransport, memoryStorage } from './fakes.ts';

const berlin = { timezone: 'Europe/Berlin', locale: 'de-DE' };

/** A client whose page goes idle only when the test says so; counts environment reads. */
function idleLater(disk = memoryStorage()) {
  let idle: (() => void) | undefined;
  const env = vi.fn(() => berlin);
  const client = setup([], disk, { env, whenIdle: (ready) => (idle = ready) });
  return { ...client, env, idle: () => idle!() };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  delete (window as any).Parley;
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('reading the environment when the page is idle', () => {
  it('neither reads it nor queues anything before then, and still sends on time', async () => {
    const { client, env, idle, sent, disk, identities } = idleLater();
    const givenAt = Date.now();
    client.identify(ann);
    client.identify({ id: 'b', email: 'bob@acme.test' });
    await vi.advanceTimersByTimeAsync(600);
    expect(env).not.toHaveBeenCalled();
    expect(disk.data.size).toBe(0);
    idle();
    expect(env).toHaveBeenCalled();
    expect(disk.data.get('parley:v1:demo:outbox')).toContain('Europe/Berlin');
    await vi.advanceTimersByTimeAsync(300);
    expect(sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100); // the batch delay counts from the identify call
    expect(sent).toHaveLength(1);
    expect(identities().map((i: any) => [i.id, i.timezone, i.locale, i.observed_at])).toEqual([
      ['123', 'Europe/Berlin', 'de-DE', givenAt],
      ['b', 'Europe/Berlin', 'de-DE', givenAt],
    ]);
  });

  it('settles waiting identities at once when feedback needs them', async () => {
    const { client, sent } = idleLater();
    client.identify(ann);
    await client.sendFeedback({ kind: 'comment', body: 'Hi' });
    const feedback = sent.find((s) => s.url.endsWith('/feedback'))!;
    expect(feedback.body.identity).toMatchObject({ id: '123', timezone: 'Europe/Berlin' });
  });

  it('hands waiting identities to sendBeacon when the page hides before it was idle', () => {
    const { client, sent } = idleLater();
    client.identify(ann);
    client.flushOnHide();
    expect(sent.map((s) => [s.via, s.body.identities?.[0]?.timezone])).toEqual([['beacon', 'Europe/Berlin']]);
  });

  it('still sends an identity given before a logout that came before idle', async () => {
    const { client, identities } = idleLater();
    client.identify(ann);
    client.logout();
    expect(client.identity()).toBeNull();
    await vi.runAllTimersAsync();
    expect(identities().map((i: any) => i.id)).toEqual(['123']);
  });

  it('in the browser, boot waits for requestIdleCallback before the first Intl call', async () => {
    const callbacks: (() => void)[] = [];
    vi.stubGlobal('requestIdleCallback', (cb: () => void) => callbacks.push(cb));
    const intl = vi.spyOn(Intl, 'DateTimeFormat');
    (window as any).Parley = [['identify', { id: 'i', email: 'i@x.test' }]];
    const fake = fakeTransport();
    const tag = document.createElement('script');
    tag.setAttribute('src', 'https://c.test/widget.js');
    tag.setAttribute('data-site', 'demo');
    const disk = memoryStorage();
    boot({
      win: window,
      script: tag,
      transport: fake.transport,
      storage: () => disk,
      loadPanel: async () => ({ mount }),
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(intl).not.toHaveBeenCalled();
    callbacks[0](); // the identities' (the launcher's follows)
    expect(intl).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.identities()).toEqual([expect.objectContaining({ id: 'i', timezone: expect.any(String) })]);
  });
});

describe('environment()', () => {
  it('reads the time zone from Temporal when the browser has it, without touching Intl', () => {
    vi.stubGlobal('Temporal', { Now: { timeZoneId: () => 'Asia/Tokyo' } });
    const intl = vi.spyOn(Intl, 'DateTimeFormat');
    expect(environment()).toEqual({ timezone: 'Asia/Tokyo', locale: navigator.language });
    expect(intl).not.toHaveBeenCalled();
  });

  it('falls back to Intl without Temporal, or when a DOM element clobbers the name', () => {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(environment().timezone).toBe(zone);
    vi.stubGlobal('Temporal', document.createElement('div'));
    expect(environment().timezone).toBe(zone);
  });
});

describe('fingerprints', () => {
  // Computed by the release that read the environment inside identify (before the deferral):
  // users' browsers hold these in their throttle, so they must not change.
  const raw = {
    id: 42,
    email: ' Ann@Acme.test ',
    name: 'Ann',
    cf_persona: 'dev',
    account: { id: 'acme', monthly_rate: 99.5, cf_region: 'EU' },
    location: { country: 'DE', city: 'Berlin' },
  };
  const stored: [Record<string, unknown>, Record<string, string>, string][] = [
    [raw, berlin, '19n0fnz.60'],
    [{ ...raw, timezone: 'Asia/Tokyo' }, berlin, '184vx99.5x'],
    [{ ...raw, locale: 'fr' }, {}, '1uai7oy.56'],
  ];

  it.each(stored)('are what the previous release stored (%#)', (page, env, fp) => {
    expect(fingerprint(withEnvironment(normalizeIdentity(page) as any, env))).toBe(fp);
  });

  it('so an identity acknowledged by the previous release is not sent again', async () => {
    const disk = memoryStorage();
    disk.setItem('parley:v1:demo:acks', JSON.stringify([['42', '19n0fnz.60', Date.now()]]));
    const { client, idle, sent } = idleLater(disk);
    client.identify(raw);
    idle();
    await vi.runAllTimersAsync();
    expect(sent).toEqual([]);
  });
});
