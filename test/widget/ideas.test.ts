/**
 * The ideas search end to end: the widget's client and the panel's reading of the answer
 * against a real collector, so a reply of the wrong shape on either side (a bare array, a
 * renamed count) fails here rather than showing no suggestions in production.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../widget/client.ts';
import { silent } from '../../widget/log.ts';
import { wellFormed } from '../../widget/panel/Panel.tsx';
import { createStorage } from '../../widget/storage.ts';
import { createTransport } from '../../widget/transport.ts';
import { startCollector, type TestCollector } from '../helpers/collector.ts';
import { memoryStorage } from './fakes.ts';

let collector: TestCollector;

/** A widget client for one person, talking to the collector over real HTTP. */
function person(email: string): Client {
  const win = { fetch: globalThis.fetch.bind(globalThis), navigator: {} } as unknown as Window;
  const client = createClient({
    site: collector.siteKey,
    origin: collector.url,
    transport: createTransport(win),
    storage: createStorage(() => memoryStorage(), silent),
  });
  client.identify({ email });
  return client;
}

beforeAll(async () => {
  collector = await startCollector();
});
afterAll(async () => {
  await collector?.stop();
});

describe('ideas search against the collector', () => {
  it('finds an idea by its title, with the number of people behind it', async () => {
    const ann = person('ann@acme.test');
    expect(await ann.sendFeedback({ kind: 'idea', title: 'Export to CSV', body: 'for finance' })).toBe('sent');
    expect(await ann.sendFeedback({ kind: 'idea', title: 'Dark mode' })).toBe('sent');
    const found = wellFormed(await ann.searchIdeas('csv'));
    expect(found).toEqual([{ id: expect.any(String), title: 'Export to CSV', supporters_count: 1 }]);

    const bob = person('bob@beta.test');
    expect(await bob.sendFeedback({ kind: 'support', idea_id: found[0].id })).toBe('sent');
    expect(wellFormed(await bob.searchIdeas('export'))).toEqual([{ ...found[0], supporters_count: 2 }]);
  });
});
