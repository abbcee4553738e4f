/**
 * The public ideas search (`GET /api/widget/v1/:site/ideas?q=`, docs/API.md#http-api) answers
 * anyone who has the public site key, so it matches idea titles only: a word that appears only in
 * a feedback body, which is private, must never be found through it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryApp, ORIGIN } from '../helpers/app.ts';

let app: Awaited<ReturnType<typeof memoryApp>>;
beforeAll(async () => {
  app = await memoryApp();
  const idea = await app.call(
    'POST',
    '/api/widget/v1/acme/feedback',
    {
      message_id: 'idea-1',
      kind: 'idea',
      title: 'Dark mode for reports',
      body: 'We need it before the Globex acquisition closes',
      identity: { id: 'u1', email: 'ann@acme.test' },
    },
    { origin: ORIGIN },
  );
  expect(idea.status).toBe(201);
});
afterAll(async () => {
  await app.stop();
});

const search = async (q: string) => {
  const res = await app.call('GET', `/api/widget/v1/acme/ideas?q=${encodeURIComponent(q)}`, undefined, {
    origin: ORIGIN,
  });
  expect(res.status).toBe(200);
  return res.json.ideas.map((i: { title: string }) => i.title);
};

describe('the public ideas search', () => {
  it('finds an idea by every word of its title, in any case', async () => {
    expect(await search('dark')).toEqual(['Dark mode for reports']);
    expect(await search('REPORTS dark')).toEqual(['Dark mode for reports']);
  });

  it('does not find a word that is only in the private body', async () => {
    expect(await search('globex')).toEqual([]);
    expect(await search('dark acquisition')).toEqual([]);
  });

  it('answers nothing but ids, titles and supporter counts', async () => {
    const res = await app.call('GET', '/api/widget/v1/acme/ideas?q=dark', undefined, { origin: ORIGIN });
    expect(Object.keys(res.json.ideas[0]).sort()).toEqual(['id', 'supporters_count', 'title']);
  });
});
