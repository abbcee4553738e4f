// @vitest-environment happy-dom
import { act } from 'preact/test-utils';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mount } from '../../widget/panel/host.ts';
import type { FeedbackDraft, IdeaMatch, SendResult, Ui } from '../../widget/protocol.ts';
import { silent } from '../../widget/log.ts';

interface Setup {
  needsEmail?: boolean;
  result?: SendResult;
  ideas?: IdeaMatch[];
}

function setup(opts: Setup = {}) {
  const submitted: FeedbackDraft[] = [];
  const searches: string[] = [];
  let ui!: Ui;
  ui = mount({
    doc: document,
    nonce: '',
    log: silent,
    props: (mode, close) => ({
      mode,
      needsEmail: opts.needsEmail ?? false,
      close,
      submit: async (d) => {
        submitted.push(d);
        return opts.result ?? 'sent';
      },
      searchIdeas: async (q) => {
        searches.push(q);
        return { ideas: opts.ideas ?? [] };
      },
    }),
  });
  const root = document.querySelector('parley-widget')!.shadowRoot!;
  const $ = <T extends Element = HTMLElement>(sel: string) => root.querySelector<T>(sel as any) as T;
  return { ui, root, $, submitted, searches };
}

// act() flushes Preact's batched renders and effects, as a browser frame would.
function type(el: HTMLInputElement | HTMLTextAreaElement, value: string) {
  act(() => {
    el.value = value;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

function key(target: Element, k: string, shiftKey = false) {
  act(() => {
    target.dispatchEvent(new KeyboardEvent('keydown', { key: k, shiftKey, bubbles: true, cancelable: true }));
  });
}

const click = (el: HTMLElement) => act(() => el.click());
const submit = (root: ShadowRoot) =>
  act(() => {
    root.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
const byText = (root: ShadowRoot, text: string) =>
  [...root.querySelectorAll('button')].find((b) => b.textContent === text)!;
const status = (root: ShadowRoot) => root.querySelector('[role=status]')!.textContent;

beforeEach(() => {
  document.body.innerHTML = '';
});

describe('launcher', () => {
  it('is a button named "Feedback" that opens a labelled dialog', () => {
    const { $ } = setup();
    const launcher = $<HTMLButtonElement>('.launcher');
    expect(launcher.textContent).toBe('Feedback');
    expect(launcher.getAttribute('aria-expanded')).toBe('false');
    click(launcher);
    const dialog = $('[role=dialog]');
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect($(`#${dialog.getAttribute('aria-labelledby')}`).textContent).toBe('Feedback');
    expect(launcher.getAttribute('aria-expanded')).toBe('true');
  });

  it('lives in an open shadow root styled by an adopted stylesheet, with no inline style text', () => {
    const { root } = setup();
    expect(root.mode).toBe('open');
    expect(root.adoptedStyleSheets.length + root.querySelectorAll('style').length).toBeGreaterThan(0);
    expect(root.querySelector('[style]')).toBeNull();
  });
});

describe('suggesting an idea', () => {
  it('sends the title and details, then says it was sent', async () => {
    const { $, root, submitted } = setup();
    click($<HTMLButtonElement>('.launcher'));
    type($('input[name=title]'), 'Dark mode');
    type($('textarea[name=body]'), 'Easier on the eyes');
    submit(root);
    await vi.waitFor(() => expect(status(root)).toBe('Thank you! Your feedback was sent.'));
    expect(submitted).toEqual([{ kind: 'idea', title: 'Dark mode', body: 'Easier on the eyes', email: undefined }]);
    expect(root.querySelector('form')).toBeNull();
  });

  it('says the feedback will be sent once online when it was queued', async () => {
    const { $, root } = setup({ result: 'queued' });
    click($<HTMLButtonElement>('.launcher'));
    type($('input[name=title]'), 'Offline idea');
    submit(root);
    await vi.waitFor(() =>
      expect(status(root)).toBe(
        'You seem to be offline. Your feedback is saved and will be sent once you are back online.',
      ),
    );
  });

  it('keeps the form and says so when the collector refused it', async () => {
    const { $, root } = setup({ result: 'failed' });
    click($<HTMLButtonElement>('.launcher'));
    type($('input[name=title]'), 'Refused');
    submit(root);
    await vi.waitFor(() => expect(status(root)).toBe('Sorry, your feedback could not be sent.'));
    expect($<HTMLInputElement>('input[name=title]').value).toBe('Refused');
  });

  it('does not send an idea without a title', () => {
    const { $, root, submitted } = setup();
    click($<HTMLButtonElement>('.launcher'));
    submit(root);
    expect(submitted).toEqual([]);
    expect(status(root)).toBe('Please fill in the required fields.');
  });

  it('offers matching ideas to support instead, rendering their titles as text', async () => {
    const ideas = [
      { id: 'i1', title: '<img src=x onerror="alert(1)">Dark mode', supporters_count: 4 },
      { id: 'i2', title: { evil: 1 } } as any,
    ];
    const { $, root, submitted, searches } = setup({ ideas });
    click($<HTMLButtonElement>('.launcher'));
    type($('input[name=title]'), 'dark');
    await vi.waitFor(() => expect(root.querySelector('li')).not.toBeNull(), { timeout: 2000 });
    expect(searches).toEqual(['dark']);
    expect(root.querySelectorAll('li')).toHaveLength(1);
    expect(root.querySelector('li img')).toBeNull();
    expect(root.querySelector('li span')!.textContent).toContain('<img');
    click(byText(root, 'Support'));
    await vi.waitFor(() => expect(submitted).toEqual([{ kind: 'support', idea_id: 'i1', email: undefined }]));
  });

  it('asks for an email only when no identity is known', async () => {
    const known = setup();
    click(known.$<HTMLButtonElement>('.launcher'));
    expect(known.root.querySelector('input[type=email]')).toBeNull();
    document.body.innerHTML = '';
    const anon = setup({ needsEmail: true });
    click(anon.$<HTMLButtonElement>('.launcher'));
    type(anon.$('input[name=title]'), 'Idea');
    submit(anon.root);
    expect(anon.submitted).toEqual([]);
    type(anon.$('input[type=email]'), 'guest@x.test');
    submit(anon.root);
    await vi.waitFor(
      () => expect(anon.submitted).toEqual([{ kind: 'idea', title: 'Idea', email: 'guest@x.test' }]), // no details: no body
    );
  });
});

describe('comment and NPS', () => {
  it('sends a comment', async () => {
    const { ui, $, root, submitted } = setup();
    act(() => ui.open('comment'));
    type($('textarea[name=body]'), 'Love it');
    submit(root);
    await vi.waitFor(() => expect(submitted).toEqual([{ kind: 'comment', body: 'Love it', email: undefined }]));
  });

  it('sends an NPS score with its reason', async () => {
    const { ui, root, submitted } = setup();
    act(() => ui.open('nps'));
    const nine = [...root.querySelectorAll<HTMLInputElement>('input[type=radio]')][9];
    click(nine);
    type(root.querySelector('textarea')!, 'Fast');
    submit(root);
    await vi.waitFor(() => expect(submitted).toEqual([{ kind: 'nps', score: 9, body: 'Fast', email: undefined }]));
  });

  it('maps UserVoice modes onto ours', () => {
    const { ui, root } = setup();
    act(() => ui.open({ mode: 'satisfaction' }));
    expect(root.querySelectorAll('input[type=radio]')).toHaveLength(11);
  });
});

describe('keyboard', () => {
  it('moves focus into the dialog when it opens', () => {
    const { $, root } = setup();
    click($<HTMLButtonElement>('.launcher'));
    expect(root.activeElement).toBe($('input[name=title]'));
  });

  it('closes on Escape and gives focus back to the launcher', () => {
    const { $, root } = setup();
    const launcher = $<HTMLButtonElement>('.launcher');
    launcher.focus();
    click(launcher);
    key($('input[name=title]'), 'Escape');
    expect(root.querySelector('[role=dialog]')).toBeNull();
    expect(root.activeElement).toBe(launcher);
    expect(launcher.getAttribute('aria-expanded')).toBe('false');
  });

  it('traps Tab inside the dialog in both directions', () => {
    const { $, root } = setup();
    click($<HTMLButtonElement>('.launcher'));
    const buttons = [...root.querySelectorAll<HTMLButtonElement>('[role=dialog] button')];
    const close = buttons[0];
    const send = buttons[buttons.length - 1];
    expect(send.textContent).toBe('Send');
    send.focus();
    key(send, 'Tab');
    expect(root.activeElement).toBe(close);
    key(close, 'Tab', true);
    expect(root.activeElement).toBe(send);
  });

  it('switches kind of feedback with the tab buttons', () => {
    const { $, root } = setup();
    click($<HTMLButtonElement>('.launcher'));
    const comment = byText(root, 'Comment');
    click(comment);
    expect(comment.getAttribute('aria-pressed')).toBe('true');
    expect(root.querySelector('input[name=title]')).toBeNull();
    expect(root.querySelector('textarea[name=body]')).not.toBeNull();
  });
});
