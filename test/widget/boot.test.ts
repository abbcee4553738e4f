// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { boot, type BootOptions } from '../../widget/boot.ts';
import { mount } from '../../widget/panel/host.ts';
import { silent } from '../../widget/log.ts';
import { fakeTransport, memoryStorage } from './fakes.ts';

const w = window as unknown as Record<string, any>;

function script(attrs: Record<string, string> = { 'data-site': 'demo' }) {
  const el = document.createElement('script');
  el.setAttribute('src', 'https://c.test/widget.js');
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el; // not inserted: happy-dom would try to fetch it
}

function jsonBlock(value: unknown) {
  const el = document.createElement('script');
  el.type = 'application/json';
  el.setAttribute('data-parley', '');
  el.textContent = typeof value === 'string' ? value : JSON.stringify(value);
  document.head.appendChild(el);
}

/** Boots a widget and lets it take the page's commands at once, as it does when the page is idle. */
function start(opts: Partial<BootOptions> = {}, tag: HTMLScriptElement | null = script()) {
  const fake = fakeTransport();
  const disk = memoryStorage();
  const widget = boot({
    win: window,
    script: tag,
    transport: fake.transport,
    storage: () => disk,
    loadPanel: async () => ({ mount }),
    batchDelayMs: 0,
    log: silent,
    ...opts,
  });
  const client = widget?.start();
  return { ...fake, widget, client, disk };
}

beforeEach(() => {
  document.head.innerHTML = '';
  document.body.innerHTML = '';
  for (const k of ['Parley', 'UserVoice']) delete w[k];
});
afterEach(() => {
  delete (Array.prototype as any).toJSON;
});

describe('command queue', () => {
  it('replays commands pushed before load in order, then runs later pushes at once', async () => {
    w.Parley = [];
    w.Parley.push(['identify', { id: 'a', email: 'a@x.test' }]);
    w.Parley.push(['identify', { id: 'a', email: 'a@x.test', name: 'Second' }]);
    const { client, identities } = start();
    expect(client!.identity()?.name).toBe('Second');
    w.Parley.push(['identify', { id: 'b', email: 'b@x.test' }]);
    expect(client!.identity()?.id).toBe('b');
    await client!.flush();
    expect(identities().map((i: any) => [i.id, i.name])).toEqual([
      ['a', 'Second'],
      ['b', undefined],
    ]);
    expect(w.Parley).toHaveLength(0);
  });

  it('keeps the array the host page holds a reference to', () => {
    const queue: unknown[] = [];
    w.Parley = queue;
    const { client } = start();
    queue.push(['identify', { email: 'held@x.test' }]);
    expect(client!.identity()?.email).toBe('held@x.test');
  });

  it('uses the global named by data-global, so UserVoice embed code works unchanged', () => {
    w.UserVoice = [['identify', { email: 'uv@x.test' }]];
    const { client } = start({}, script({ 'data-site': 'demo', 'data-global': 'UserVoice' }));
    expect(client!.identity()?.email).toBe('uv@x.test');
    expect(w.Parley).toBeUndefined();
  });

  it('ignores unknown commands, non-array commands and throwing commands, and keeps going', () => {
    w.Parley = [['frobnicate'], 'identify', ['addTrigger', '##bad('], ['identify', { email: 'ok@x.test' }]];
    const { client } = start();
    expect(client!.identity()?.email).toBe('ok@x.test');
  });

  it('starts a fresh queue when an element with id="Parley" clobbers the global', () => {
    const div = document.createElement('div');
    div.id = 'Parley';
    document.body.appendChild(div);
    const { client } = start();
    expect(Array.isArray(w.Parley)).toBe(true);
    w.Parley.push(['identify', { email: 'c@x.test' }]);
    expect(client!.identity()?.email).toBe('c@x.test');
  });

  it('stands down, sending nothing, when another copy already owns the queue', async () => {
    expect(start().widget).not.toBeNull();
    jsonBlock({ identify: { email: 'twice@x.test' } });
    const second = start();
    expect(second.widget).toBeNull();
    await new Promise((r) => setTimeout(r, 10));
    expect(second.sent).toEqual([]);
  });

  it('never throws into the page when a command throws', () => {
    w.Parley = [];
    start();
    expect(() =>
      w.Parley.push(
        ['set', null],
        [
          'show',
          {
            get mode() {
              throw new Error('boom');
            },
          },
        ],
      ),
    ).not.toThrow();
  });
});

describe('config', () => {
  it('takes the collector origin from the script src and the site from data-site', async () => {
    const { client, sent } = start({}, script({ 'data-site': 'acme' }));
    client!.identify({ email: 'a@x.test' });
    await client!.flush();
    expect(sent[0].url).toBe('https://c.test/api/widget/v1/acme/identify');
  });

  it('reads site, identify and settings from a JSON config block, before queued commands', async () => {
    jsonBlock({ site: 'json-site', identify: { id: 'j', email: 'j@x.test' }, settings: { text: 'Ideas?' } });
    w.Parley = [['identify', { id: 'q', email: 'q@x.test' }]];
    const { widget, client, identities, sent } = start({}, script({}));
    await client!.flush();
    expect(sent[0].url).toContain('/json-site/identify');
    expect(identities().map((i: any) => i.id)).toEqual(['j', 'q']);
    await widget!.ui();
    expect(document.querySelector('parley-widget')!.shadowRoot!.querySelector('.launcher')!.textContent).toBe('Ideas?');
  });

  it('ignores a malformed JSON block, says so, and still reads the valid one after it', async () => {
    jsonBlock('{not json');
    jsonBlock({ site: 'json-site', identify: { id: 'j', email: 'j@x.test' } });
    const said: unknown[][] = [];
    const { client, identities, sent } = start({ log: { warn: (...args) => said.push(args) } }, script({}));
    await client!.flush();
    expect(sent.map((s) => s.url)).toEqual(['https://c.test/api/widget/v1/json-site/identify']);
    expect(identities().map((i: any) => i.id)).toEqual(['j']);
    expect(said).toEqual([['JSON config block 0 ignored: not an object']]);
  });

  it('stays off without a site key', () => {
    expect(start({}, script({})).widget).toBeNull();
  });
});

describe('hostile pages', () => {
  it('sends identities as an array even when Array.prototype.toJSON exists (Prototype.js)', async () => {
    (Array.prototype as any).toJSON = function () {
      return JSON.stringify([...this]);
    };
    const { client, sent } = start();
    client!.identify({ email: 'p@x.test' });
    await client!.flush();
    expect(Array.isArray(sent[0].body.identities)).toBe(true);
    expect(typeof (Array.prototype as any).toJSON).toBe('function');
  });

  it('works when localStorage throws on every access', async () => {
    const { client, sent } = start({
      storage: () => {
        throw new DOMException('denied', 'SecurityError');
      },
    });
    client!.identify({ email: 's@x.test' });
    await client!.flush();
    expect(sent).toHaveLength(1);
  });
});

describe('page lifecycle', () => {
  it('hands pending identities to sendBeacon on pagehide', () => {
    const { client, sent } = start({ batchDelayMs: 60_000 });
    client!.identify({ email: 'h@x.test' });
    window.dispatchEvent(new Event('pagehide'));
    expect(sent).toEqual([expect.objectContaining({ via: 'beacon' })]);
  });
});

describe('lazy panel', () => {
  it('fetches panel.js once the page is idle when the launcher is on', async () => {
    vi.useFakeTimers();
    try {
      let loads = 0;
      start({
        loadPanel: async () => {
          loads++;
          return { mount };
        },
      });
      expect(loads).toBe(0);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(loads).toBe(1);
      expect(document.querySelector('parley-widget')).not.toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('fetches panel.js when the launcher is turned on later', async () => {
    let loads = 0;
    w.Parley = [['set', 'launcher', false]];
    start({
      loadPanel: async () => {
        loads++;
        return { mount };
      },
    });
    w.Parley.push(['set', { launcher: true }]);
    await vi.waitFor(() => expect(document.querySelector('parley-widget')).not.toBeNull());
    expect(loads).toBe(1);
  });

  it('never fetches panel.js when the launcher is off and nothing opens the panel', async () => {
    vi.useFakeTimers();
    try {
      let loads = 0;
      w.Parley = [
        ['set', 'launcher', false],
        ['identify', { email: 'quiet@x.test' }],
      ];
      start({
        loadPanel: async () => {
          loads++;
          return { mount };
        },
      });
      await vi.advanceTimersByTimeAsync(60_000);
      expect(loads).toBe(0);
      expect(document.querySelector('parley-widget')).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('UI commands', () => {
  const root = () => document.querySelector('parley-widget')!.shadowRoot!;

  it('show opens the dialog, hide closes it', async () => {
    w.Parley = [['show']];
    const { widget } = start();
    await widget!.ui();
    expect(root().querySelector('[role=dialog]')).not.toBeNull();
    w.Parley.push(['hide']);
    expect(root().querySelector('[role=dialog]')).toBeNull();
  });

  it('autoprompt opens the NPS question', async () => {
    w.Parley = [['autoprompt']];
    const { widget } = start();
    await widget!.ui();
    expect(root().querySelectorAll('input[type=radio]')).toHaveLength(11);
  });

  it('set changes the launcher text, colour and position', async () => {
    w.Parley = [
      ['set', { text: 'Tell us', accent_color: '#ff0000' }],
      ['set', 'position', 'top-left'],
    ];
    const { widget } = start();
    await widget!.ui();
    const host = document.querySelector('parley-widget') as HTMLElement;
    expect(root().querySelector('.launcher')!.textContent).toBe('Tell us');
    expect(host.dataset.position).toBe('top-left');
    expect(host.style.getPropertyValue('--parley-accent')).toBe('#ff0000');
  });

  it('refuses a colour that could inject CSS', async () => {
    w.Parley = [['set', { color: 'red;} :host{display:none' }]];
    const { widget } = start();
    await widget!.ui();
    expect((document.querySelector('parley-widget') as HTMLElement).style.getPropertyValue('--parley-accent')).toBe(
      '#4f46e5',
    );
  });

  it("addTrigger with a selector opens the panel from the host page's own button", async () => {
    document.body.innerHTML = '<button id="help"><span>Help</span></button>';
    w.Parley = [
      ['set', 'launcher', false],
      ['addTrigger', '#help', { mode: 'contact' }],
    ];
    const { widget } = start();
    (document.querySelector('#help span') as HTMLElement).click();
    await widget!.ui();
    await vi.waitFor(() => expect(root().querySelector('textarea[name=body]')).not.toBeNull());
    expect((root().querySelector('.launcher') as HTMLElement).hidden).toBe(true);
  });

  it('logout makes the panel ask for an email again', async () => {
    w.Parley = [['identify', { email: 'a@x.test' }], ['logout'], ['show']];
    const { widget } = start();
    await widget!.ui();
    expect(root().querySelector('input[type=email]')).not.toBeNull();
  });
});
