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
import type { PanelModule } from '../../widget/protocol.ts';
import { setup } from './harness.ts';
import { fakeTransport, memoryStorage } from './fakes.ts';

const w = window as unknown as Record<string, any>;

/** Boots widget.js on this page with idle callbacks held until the test runs them; counts localStorage reads. */
function bootOnPage(disk = memoryStorage(), loadPanel: () => Promise<PanelModule> = async () => ({ mount })) {
  const idle: (() => void)[] = [];
  const storage = { touched: 0 };
  vi.stubGlobal('requestIdleCallback', (cb: () => void) => idle.push(cb));
  const fake = fakeTransport();
  const tag = document.createElement('script');
  tag.setAttribute('src', 'https://c.test/widget.js');
  tag.setAttribute('data-site', 'demo');
  const widget = boot({
    win: window,
    script: tag,
    transport: fake.transport,
    storage: () => (storage.touched++, disk),
    loadPanel,
    log: silent,
  });
  return { ...fake, widget, disk, idle, storage };
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
  it('neither reads storage nor takes commands until the first idle callback', async () => {
    const intl = vi.spyOn(Intl, 'DateTimeFormat');
    const { widget, idle, sent, storage } = bootOnPage();
    w.Parley.push(['identify', { id: 'j', email: 'j@x.test' }]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(w.Parley).toHaveLength(2);
    expect(storage.touched).toBe(0);
    expect(intl).not.toHaveBeenCalled();
    expect(sent).toEqual([]);
    idle[0]();
    expect(w.Parley).toHaveLength(0);
    expect(storage.touched).toBeGreaterThan(0);
    expect(intl).toHaveBeenCalled();
    const client = widget!.start(); // already started: the same client
    expect(client.identity()?.id).toBe('j');
    w.Parley.push(['identify', { id: 'k', email: 'k@x.test' }]);
    expect(client.identity()?.id).toBe('k'); // later pushes run at once
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
    boot({ win: window, script: tag, transport: fake.transport, storage: () => memoryStorage() });
    await vi.advanceTimersByTimeAsync(999);
    expect(w.Parley).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(w.Parley).toHaveLength(0);
  });

  it('hands what the page identified to sendBeacon when it hides before it was idle', () => {
    const { sent } = bootOnPage();
    window.dispatchEvent(new Event('pagehide'));
    expect(sent.map((s) => [s.via, s.body.identities[0].id])).toEqual([['beacon', 'i']]);
  });

  it('never throws into the page from an idle callback', async () => {
    const { idle } = bootOnPage(memoryStorage(), () => {
      throw new Error('no panel today');
    });
    await vi.advanceTimersByTimeAsync(0); // the DOM is ready: the launcher's idle callback is queued
    expect(idle).toHaveLength(2);
    for (const cb of idle) expect(cb).not.toThrow();
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
