// @vitest-environment happy-dom
/**
 * sources.js in a page (happy-dom): the embed opts in, the widget loads the chunk (registered
 * here as sources.js registers itself) and follows Segment's analytics.js and Intercom as they
 * change; an explicit identify wins; garbage identifies nobody and raises nothing.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { boot } from '../../widget/boot.ts';
import { silent } from '../../widget/log.ts';
import { watch } from '../../widget/sources/watch.ts';
import { fakeTransport, memoryStorage } from './fakes.ts';

const w = window as unknown as Record<string | symbol, any>;
const KEY = Symbol.for('parley.sources');

function script(attrs: Record<string, string>) {
  const el = document.createElement('script');
  el.type = 'text/x-not-run'; // in the document, where sources.js looks, but not fetched by happy-dom
  el.setAttribute('src', 'https://c.test/widget.js');
  el.setAttribute('data-site', 'demo');
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  document.head.appendChild(el);
  return el;
}

/** Boots the widget, starts it at once, and waits for sources.js to report. */
async function start(attrs: Record<string, string> = { 'data-identify-from': 'segment intercom' }) {
  const fake = fakeTransport();
  const widget = boot({
    win: window,
    script: script(attrs),
    transport: fake.transport,
    storage: () => memoryStorage(),
    loadPanel: () => new Promise(() => {}),
    batchDelayMs: 0,
    log: silent,
  });
  const client = widget!.start();
  await tick();
  return { ...fake, client };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

/** The analytics.js snippet's shape as far as we use it: `on` listeners and `ready`. */
function fakeAnalytics() {
  const listeners: Record<string, ((...a: unknown[]) => void)[]> = {};
  w.analytics = {
    on: (event: string, fn: (...a: unknown[]) => void) => (listeners[event] ??= []).push(fn),
    ready: () => {},
  };
  return (event: string, ...args: unknown[]) => listeners[event]?.forEach((fn) => fn(...args));
}

beforeEach(() => {
  document.head.innerHTML = '';
  document.cookie.split('; ').forEach((c) => (document.cookie = `${c.split('=')[0]}=; max-age=0`));
  localStorage.clear();
  w[KEY] = { watch };
  for (const k of ['Parley', 'analytics', 'intercomSettings', 'Intercom']) delete w[k];
});
afterEach(() => {
  vi.restoreAllMocks();
  delete w[KEY];
});

describe('Segment', () => {
  it('identifies the person analytics.js persisted, with no Parley.push', async () => {
    localStorage.setItem('ajs_user_id', JSON.stringify('u1'));
    localStorage.setItem('ajs_user_traits', JSON.stringify({ email: 'ann@acme.test', name: 'Ann' }));
    localStorage.setItem('ajs_group_id', JSON.stringify('acme'));
    localStorage.setItem('ajs_group_properties', JSON.stringify({ name: 'Acme', mrr: 99.5 }));
    const { client, identities } = await start({ 'data-identify-from': 'segment' });
    expect(client.identity()).toMatchObject({
      id: 'u1',
      email: 'ann@acme.test',
      account: { id: 'acme', mrr_cents: 9950 },
    });
    await client.flush();
    expect(identities().map((i: any) => i.id)).toEqual(['u1']);
  });

  it('reads the user id from the cookie when localStorage has none', async () => {
    document.cookie = 'ajs_user_id=' + encodeURIComponent('u@2');
    localStorage.setItem('ajs_user_traits', JSON.stringify({ email: 'b@x.test' }));
    const { client } = await start({ 'data-identify-from': 'segment' });
    expect(client.identity()?.id).toBe('u@2');
  });

  it('follows identify and group, and reset signs the person out', async () => {
    const emit = fakeAnalytics();
    const { client } = await start({ 'data-identify-from': 'segment' });
    expect(client.identity()).toBeNull();
    emit('identify', 'u1', { email: 'ann@acme.test' });
    expect(client.identity()?.id).toBe('u1');
    emit('group', 'acme', { plan: 'Team' });
    expect(client.identity()?.account).toEqual({ id: 'acme', plan: 'Team' });
    emit('identify', 'u2', { email: 'bob@acme.test' });
    expect(client.identity()).toMatchObject({ id: 'u2', email: 'bob@acme.test' });
    emit('reset');
    expect(client.identity()).toBeNull();
  });

  it('a person analytics.js knows without an email signs out the previous one', async () => {
    const emit = fakeAnalytics();
    const { client } = await start({ 'data-identify-from': 'segment' });
    emit('identify', 'u1', { email: 'ann@acme.test' });
    emit('identify', 'u2', { name: 'No email' });
    expect(client.identity()).toBeNull();
  });

  it('follows analytics.js under the global its snippet named', async () => {
    const tag = document.createElement('script');
    tag.type = 'text/x-not-run';
    tag.setAttribute('data-global-segment-analytics-key', 'segment');
    document.head.appendChild(tag);
    const emit = fakeAnalytics();
    w.segment = w.analytics;
    w.analytics = { on: () => {} }; // another library's global of that name: not followed
    try {
      const { client } = await start({ 'data-identify-from': 'segment' });
      emit('identify', 'named', { email: 'named@x.test' });
      expect(client.identity()?.id).toBe('named');
    } finally {
      delete w.segment;
    }
  });

  it('finds window.analytics defined after the widget', async () => {
    vi.useFakeTimers();
    try {
      const started = start({ 'data-identify-from': 'segment' });
      await vi.advanceTimersByTimeAsync(1);
      const { client } = await started;
      const emit = fakeAnalytics();
      await vi.advanceTimersByTimeAsync(600);
      emit('identify', 'late', { email: 'late@x.test' });
      expect(client.identity()?.id).toBe('late');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('Intercom', () => {
  it('identifies from intercomSettings and follows update and shutdown through the wrapped Intercom', async () => {
    w.intercomSettings = {
      app_id: 'x',
      user_id: '1',
      email: 'ann@acme.test',
      company: { id: 'acme', monthly_spend: 10 },
    };
    const calls: unknown[][] = [];
    const stub: any = function (...args: unknown[]) {
      calls.push(args);
    };
    stub.q = ['queued'];
    w.Intercom = stub;
    const { client } = await start({ 'data-identify-from': 'intercom' });
    expect(client.identity()).toMatchObject({ id: '1', account: { id: 'acme', mrr_cents: 1000 } });

    w.Intercom('update', { name: 'Ann' });
    expect(client.identity()?.name).toBe('Ann');
    expect(calls).toEqual([['update', { name: 'Ann' }]]); // the page's Intercom still gets the call
    expect(w.Intercom.q).toEqual(['queued']); // and its properties

    // Intercom's script replaces its stub: the real function is wrapped too.
    const real = vi.fn();
    w.Intercom = real;
    w.Intercom('update', { user_id: '2', email: 'bob@acme.test' });
    expect(real).toHaveBeenCalledWith('update', { user_id: '2', email: 'bob@acme.test' });
    // Another person starts over: nothing of Ann (her account) stays.
    expect(client.identity()).toMatchObject({ id: '2', email: 'bob@acme.test' });
    expect(client.identity()?.account).toBeUndefined();

    w.Intercom('shutdown');
    expect(client.identity()).toBeNull();
    w.Intercom('boot', { email: 'cy@x.test' });
    expect(client.identity()?.email).toBe('cy@x.test');
    // A single-page app that changes intercomSettings and calls update() with no argument.
    w.intercomSettings = { email: 'cy@x.test', name: 'Cy' };
    w.Intercom('update');
    expect(client.identity()?.name).toBe('Cy');
  });

  it('reads the JSON config block: identify_from and revenue_trait', async () => {
    const block = document.createElement('script');
    block.type = 'application/json';
    block.setAttribute('data-parley', '');
    block.textContent = JSON.stringify({ identify_from: ['intercom'], revenue_trait: 'mrr_total:cents' });
    document.head.appendChild(block);
    w.intercomSettings = { email: 'a@x.test', company: { id: 'c', mrr_total: 500, monthly_spend: 1 } };
    const { client } = await start({});
    expect(client.identity()?.account).toMatchObject({ id: 'c', mrr_cents: 500, cf_monthly_spend: 1 });
  });
});

describe('an explicit identify', () => {
  it('wins over what is read, until the page logs out', async () => {
    const emit = fakeAnalytics();
    w.Parley = [['identify', { id: 'page', email: 'page@x.test' }]];
    const { client } = await start({ 'data-identify-from': 'segment' });
    emit('identify', 'seg', { email: 'seg@x.test' });
    expect(client.identity()?.id).toBe('page');
    emit('reset');
    expect(client.identity()?.id).toBe('page');
    w.Parley.push(['logout']);
    emit('identify', 'seg2', { email: 'seg2@x.test' });
    expect(client.identity()?.id).toBe('seg2');
  });
});

describe('an explicit identify after what was read', () => {
  it('replaces the person read, and later changes of the tools are ignored', async () => {
    const emit = fakeAnalytics();
    const { client } = await start({ 'data-identify-from': 'segment' });
    emit('identify', 'seg', { email: 'seg@x.test' });
    expect(client.identity()?.id).toBe('seg');
    w.Parley.push(['identify', { id: 'page', email: 'page@x.test' }]);
    emit('identify', 'seg3', { email: 'seg3@x.test' });
    emit('reset');
    expect(client.identity()?.id).toBe('page');
  });
});

describe('without opting in', () => {
  it('loads nothing and reads nothing', async () => {
    w.intercomSettings = { email: 'a@x.test' };
    const load = vi.fn();
    w[KEY] = { watch: load };
    const { client } = await start({});
    expect(load).not.toHaveBeenCalled();
    expect(client.identity()).toBeNull();
    expect(document.querySelector('script[src$="sources.js"]')).toBeNull();
  });
});

describe('garbage', () => {
  const cyclic: any = { email: 'a@x.test' };
  cyclic.self = cyclic;
  const corpus: Record<string, unknown> = {
    'a string': 'ann@acme.test',
    'a number': 42,
    'an array': [{ email: 'a@x.test' }],
    'email of the wrong type': { email: 42, user_id: {} },
    'a huge email': { email: 'a'.repeat(1_000_000) + '@x.test' },
    'a cyclic object without a readable email': Object.assign(cyclic, { email: { self: cyclic } }),
    'a getter that throws': Object.defineProperty({}, 'email', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    }),
    'a proxy that throws': new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('keys');
        },
        get: () => {
          throw new Error('get');
        },
      },
    ),
    'a revoked proxy': (() => {
      const p = Proxy.revocable({}, {});
      p.revoke();
      return p.proxy;
    })(),
    null: null,
    'a function': () => ({ email: 'a@x.test' }),
  };
  for (const [name, value] of Object.entries(corpus)) {
    it(`intercomSettings and Segment's storage holding ${name} identify nobody and raise nothing`, async () => {
      const errors: unknown[] = [];
      window.addEventListener('error', (e) => errors.push(e));
      w.intercomSettings = value;
      w.analytics = value;
      let text: string;
      try {
        text = JSON.stringify(value) ?? 'x';
      } catch {
        text = '{"email": {}}';
      }
      localStorage.setItem('ajs_user_traits', text);
      localStorage.setItem('ajs_user_id', text);
      const { client } = await start();
      expect(client.identity()).toBeNull();
      expect(errors).toEqual([]);
    });
  }

  it('storage and cookies that throw identify nobody and raise nothing', async () => {
    vi.spyOn(window, 'localStorage', 'get').mockImplementation(() => {
      throw new DOMException('denied', 'SecurityError');
    });
    vi.spyOn(document, 'cookie', 'get').mockImplementation(() => {
      throw new DOMException('denied', 'SecurityError');
    });
    const { client } = await start();
    expect(client.identity()).toBeNull();
  });

  it('an Intercom that cannot be redefined is wrapped once, and one that throws still throws only to its caller', async () => {
    const original = function () {
      throw new Error('intercom broke');
    };
    Object.defineProperty(window, 'Intercom', { value: original, writable: true, configurable: false });
    w.intercomSettings = { email: 'a@x.test' };
    const { client } = await start({ 'data-identify-from': 'intercom' });
    expect(() => w.Intercom('update', { email: 'b@x.test' })).toThrow('intercom broke');
    expect(client.identity()?.email).toBe('b@x.test');
  });
});
