// @vitest-environment happy-dom
/**
 * Cost at page load: widget.js takes the page's commands only once the page is idle (an
 * identify's first Intl call costs ~50 ms), reads the time zone from Temporal when the browser
 * has it, and builds identities exactly as before, so the throttle entries earlier versions
 * stored stay valid.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { boot } from '../../widget/boot.ts';
import { environment, fingerprint, normalizeIdentity } from '../../widget/identity.ts';
import { silent } from '../../widget/log.ts';
import { mount } from '../../widget/panel/host.ts';
import { setup } from './harness.ts';
import { fakeTransport, memoryStorage } from './fakes.ts';

const w = window as unknown as Record<string, any>;

/** Boots widget.js on this page with idle callbacks held until the test runs them. */
function bootOnPage(disk = memoryStorage()) {
  const idle: (() => void)[] = [];
  vi.stubGlobal('requestIdleCallback', (cb: () => void) => idle.push(cb));
  const fake = fakeTransport();
  const tag = document.createElement('script');
  tag.setAttribute('src', 'https://c.test/widget.js');
  tag.setAttribute('data-site', 'demo');
  const widget = boot({
    win: window,
    script: tag,
    transport: fake.transport,
    storage: () => disk,
    loadPanel: async () => ({ mount }),
    log: silent,
  });
  return { ...fake, widget, disk, idle };
}

beforeEach(() => {
  vi.useFakeTimers();
  w.Parley = [['identify', { id: 'i', email: 'i@x.test' }]];
});
afterEach(() => {
  delete w.Parley;
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('taking commands once the page is idle', () => {
  it('leaves them in the page queue, untouched, until the first idle callback', async () => {
    const intl = vi.spyOn(Intl, 'DateTimeFormat');
    const { widget, idle, sent, disk } = bootOnPage();
    w.Parley.push(['identify', { id: 'j', email: 'j@x.test' }]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(w.Parley).toHaveLength(2);
    expect(widget!.client.identity()).toBeNull();
    expect(intl).not.toHaveBeenCalled();
    expect(disk.data.size).toBe(0);
    expect(sent).toEqual([]);
    idle[0]();
    expect(w.Parley).toHaveLength(0);
    expect(intl).toHaveBeenCalled();
    expect(widget!.client.identity()?.id).toBe('j');
    w.Parley.push(['identify', { id: 'k', email: 'k@x.test' }]);
    expect(widget!.client.identity()?.id).toBe('k'); // later pushes run at once
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent.flatMap((s) => s.body.identities.map((i: any) => [i.id, typeof i.timezone]))).toEqual([
      ['i', 'string'],
      ['j', 'string'],
      ['k', 'string'],
    ]);
  });

  it('takes them after the batch delay where the browser has no requestIdleCallback', async () => {
    const fake = fakeTransport();
    const tag = document.createElement('script');
    tag.setAttribute('src', 'https://c.test/widget.js');
    tag.setAttribute('data-site', 'demo');
    const widget = boot({ win: window, script: tag, transport: fake.transport, storage: () => memoryStorage() });
    await vi.advanceTimersByTimeAsync(999);
    expect(widget!.client.identity()).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(widget!.client.identity()?.id).toBe('i');
  });

  it('hands what the page identified to sendBeacon when it hides before it was idle', () => {
    const { sent } = bootOnPage();
    window.dispatchEvent(new Event('pagehide'));
    expect(sent.map((s) => [s.via, s.body.identities[0].id])).toEqual([['beacon', 'i']]);
  });

  it('leaves a second copy that boots before the first one is idle standing down', async () => {
    const first = bootOnPage();
    const second = bootOnPage();
    expect(second.widget).toBeNull();
    first.idle.forEach((cb) => cb());
    await vi.advanceTimersByTimeAsync(1000);
    expect(first.identities().map((i: any) => i.id)).toEqual(['i']);
    expect(second.sent).toEqual([]);
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
  // Computed by the release before this change: users' browsers hold these in their throttle.
  const berlin = { timezone: 'Europe/Berlin', locale: 'de-DE' };
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
    expect(fingerprint(normalizeIdentity(page, env) as any)).toBe(fp);
  });

  it('so an identity acknowledged by the previous release is not sent again', async () => {
    const disk = memoryStorage();
    disk.setItem('parley:v1:demo:acks', JSON.stringify([['42', '19n0fnz.60', Date.now()]]));
    const { client, sent } = setup([], disk, { env: () => berlin });
    client.identify(raw);
    await vi.runAllTimersAsync();
    expect(sent).toEqual([]);
  });
});
