// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ann, bob, setup } from './harness.ts';
import { memoryStorage } from './fakes.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('feedback', () => {
  it('sends feedback with the current identity and answers sent', async () => {
    const { client, sent } = setup([], memoryStorage(), { pageUrl: () => 'https://app.test/settings' });
    client.identify(ann);
    const result = await client.sendFeedback({ kind: 'idea', title: 'Dark mode', email: 'x@y.test' });
    expect(result).toBe('sent');
    const fb = sent.find((s) => s.url.endsWith('/feedback'))!;
    expect(fb.body).toMatchObject({
      kind: 'idea',
      title: 'Dark mode',
      page_url: 'https://app.test/settings',
      identity: { id: '123', email: 'ann@acme.test' },
    });
    expect(fb.body).not.toHaveProperty('email');
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

  it("carries nobody's identity after logout", async () => {
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

  it('asks the collector for ideas matching the typed words, and hands its answer to the panel as it came', async () => {
    const { client, gets, setIdeas } = setup();
    const ideas = [{ id: 'i1', title: 'Dark mode', supporters_count: 3 }, { bogus: true }];
    setIdeas(ideas);
    const reply = await client.searchIdeas('dark mode & more');
    expect(gets).toEqual(['https://c.test/api/widget/v1/demo/ideas?q=dark%20mode%20%26%20more']);
    // Unchecked on purpose: the panel filters what it renders (see panel.test.ts and ideas.test.ts).
    expect(reply).toEqual({ ideas });
  });
});
