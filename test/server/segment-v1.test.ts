/**
 * Segment's tracking API on the collector (docs/API.md#the-v1-routes): the real
 * @segment/analytics-node pointed at the collector, then HTTP tables for keys, signatures,
 * shapes and limits against the real app on the memory engine.
 */
import { createHmac } from 'node:crypto';
import { Analytics } from '@segment/analytics-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { privateAccountKey } from '../../server/core/records.ts';
import { customKey } from '../../server/core/segment-events.ts';
import { rotateWriteKey, setSiteSettings } from '../../server/sites.ts';
import { memoryApp } from '../helpers/app.ts';

type App = Awaited<ReturnType<typeof memoryApp>>;
let app: App;
let writeKey: string;
const basic = (key: string) => 'Basic ' + Buffer.from(key + ':').toString('base64');

beforeEach(async () => {
  app = await memoryApp();
  writeKey = (await rotateWriteKey(app.store, 'acme')).write_key;
});
afterEach(() => app.stop());

const v1 = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.call('POST', '/v1' + path, body, { authorization: basic(writeKey), ...headers });
const pendingOf = async (id: string) => (await app.store.getPending('acme', id))?.profile.f;

describe('@segment/analytics-node against the collector', () => {
  it('identifies a person and their group through the real library, then reads them back', async () => {
    const analytics = new Analytics({ writeKey, host: app.url, flushAt: 20, flushInterval: 50, maxRetries: 0 });
    const failures: unknown[] = [];
    analytics.on('error', (e) => failures.push(e));
    analytics.identify({
      userId: 'u-1',
      traits: {
        email: 'Ann@Acme.test',
        firstName: 'Ann',
        lastName: 'Lee',
        createdAt: '2024-01-02T03:04:05Z',
        // Intercom-style revenue on the company (the library's types know only Segment's reserved traits).
        company: { id: 'acme', name: 'Acme', plan: 'Team', monthly_spend: 99.5 } as Record<string, unknown>,
        favoriteColor: 'teal',
        seats: 4,
        address: { city: 'Berlin' },
      },
    });
    analytics.group({
      userId: 'u-1',
      groupId: 'beta',
      traits: { name: 'Beta Inc', mrr_cents: 2900, industry: 'Retail' },
    });
    analytics.track({ userId: 'u-1', event: 'Clicked' });
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(failures).toEqual([]);
    await app.intake.drained();

    expect(await pendingOf('u-1')).toMatchObject({
      email: 'ann@acme.test',
      name: 'Ann Lee',
      created_at: 1704164645,
      cf_favorite_color: 'teal',
      cf_seats: 4,
      account: 'beta', // the group, sent after the identify, is the account the person acts in now
    });
    expect(await pendingOf('u-1')).not.toHaveProperty('cf_address');
    const acme = await app.store.getPendingAccount('acme', 'acme');
    expect(JSON.stringify(acme)).toContain('"mrr_cents":9950');
    expect(JSON.stringify(acme)).toContain('"plan":"Team"');
    const beta = await app.store.getPendingAccount('acme', 'beta');
    expect(JSON.stringify(beta)).toContain('"mrr_cents":2900');
    expect(JSON.stringify(beta)).toContain('"cf_industry":"Retail"');
  }, 30_000);
});

describe('POST /v1/*', () => {
  it('answers 401 to a wrong, missing or admin key, and writes nothing', async () => {
    const event = { userId: 'x', traits: { email: 'x@acme.test' } };
    expect((await v1('/identify', event, { authorization: basic(writeKey + 'x') })).status).toBe(401);
    expect((await v1('/identify', event, { authorization: 'Bearer admin-key-for-tests-0001' })).status).toBe(401);
    expect((await app.call('POST', '/v1/identify', event)).status).toBe(401);
    await app.intake.drained();
    expect(await pendingOf('x')).toBeUndefined();
  });

  it('takes the write key from the body too, as Segment does', async () => {
    const res = await app.call('POST', '/v1/batch', {
      writeKey,
      batch: [{ type: 'identify', userId: 'b', traits: { email: 'b@acme.test' } }],
    });
    expect(res.status).toBe(202);
  });

  it('keeps batch order between events stamped in the same millisecond, whatever their message ids', async () => {
    const timestamp = '2026-03-01T10:00:00.000Z';
    const res = await v1('/batch', {
      batch: [
        {
          type: 'identify',
          userId: 'tie',
          messageId: 'zzz',
          timestamp,
          traits: { email: 'tie@acme.test', company: { id: 'first' } },
        },
        { type: 'group', userId: 'tie', groupId: 'second', messageId: 'aaa', timestamp },
      ],
    });
    expect(res.status).toBe(202);
    await app.intake.drained();
    expect(await pendingOf('tie')).toMatchObject({ account: 'second' });
  });

  it('counts ignored types and skips anonymous-only people', async () => {
    const res = await v1('/batch', {
      batch: [
        { type: 'track', userId: 'a', event: 'X' },
        { type: 'page', userId: 'a' },
        { type: 'identify', anonymousId: 'anon-1', traits: { email: 'anon@acme.test' } },
        { type: 'identify', userId: 'a', traits: { email: 'a@acme.test' } },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ success: true, accepted: 1, ignored: 2, skipped: 1, erased: 0 });
  });

  it.each([
    ['no user', '/identify', { traits: { email: 'a@acme.test' } }, 'userId'],
    ['a group without groupId', '/group', { userId: 'a' }, 'groupId'],
    ['a bad email', '/identify', { userId: 'a', traits: { email: 'nope' } }, 'traits.email'],
    ['traits not an object', '/identify', { userId: 'a', traits: [1] }, 'traits'],
    ['a bad timestamp', '/identify', { userId: 'a', timestamp: 'yesterday' }, 'timestamp'],
    ['a batch event without type', '/batch', { batch: [{ userId: 'a' }] }, 'batch.0.type'],
    ['batch not an array', '/batch', { batch: 'x' }, 'batch'],
    [
      'revenue over the money limit',
      '/group',
      { userId: 'ok', groupId: 'g', traits: { mrr_cents: 1e12 } },
      'traits.mrr_cents',
    ],
  ])('answers 400 naming the field for %s, and writes nothing', async (_name, path, body, field) => {
    // A valid identity first in the batch must not be written either.
    const res =
      path === '/batch'
        ? await v1(path, body)
        : await v1('/batch', {
            batch: [
              { type: 'identify', userId: 'ok', traits: { email: 'ok@acme.test' } },
              { type: path.slice(1), ...body },
            ],
          });
    expect(res.status).toBe(400);
    const want = path === '/batch' ? field : `batch.1.${field}`;
    expect(res.json.errors.details.map((d: { field: string }) => d.field)).toContain(want);
    await app.intake.drained();
    expect(await pendingOf('ok')).toBeUndefined();
  });

  it('refuses a call over 32 KB and a batch over 500 KB with 400', async () => {
    const big = 'x'.repeat(33 * 1024);
    expect((await v1('/identify', { userId: 'a', traits: { email: 'a@acme.test', note: big } })).status).toBe(400);
    const many = Array.from({ length: 40 }, (_, i) => ({
      type: 'identify',
      userId: `u${i}`,
      traits: { email: `u${i}@acme.test`, note: 'y'.repeat(15 * 1024) },
    }));
    const res = await v1('/batch', { batch: many });
    expect(res.status).toBe(400);
    const oneBig = await v1('/batch', {
      batch: [{ type: 'identify', userId: 'a', traits: { email: 'a@acme.test', note: big } }],
    });
    expect(oneBig.status).toBe(400);
    expect(oneBig.json.errors.details[0].field).toBe('batch.0');
  });

  it('dedupes by messageId and orders fields by timestamp', async () => {
    const at = (t: string, name: string, messageId: string) => ({
      type: 'identify',
      userId: 'o',
      messageId,
      timestamp: t,
      traits: { email: 'o@acme.test', name },
    });
    await v1('/batch', {
      batch: [at('2026-01-02T00:00:00Z', 'Newer', 'm2'), at('2026-01-01T00:00:00Z', 'Older', 'm1')],
    });
    await app.intake.drained();
    expect((await pendingOf('o'))?.name).toBe('Newer');
    // The same messageId again, even with other content, is a duplicate.
    await v1('/identify', { ...at('2026-01-03T00:00:00Z', 'Replay', 'm2') });
    await app.intake.drained();
    expect((await pendingOf('o'))?.name).toBe('Newer');
  });

  it('takes a group for a person known by id only, from the store or earlier in the request', async () => {
    await v1('/identify', { userId: 'k', traits: { email: 'k@acme.test' } });
    await app.intake.drained();
    const res = await v1('/group', { userId: 'k', groupId: 'g1', traits: { name: 'G1', monthlySpend: '12.34' } });
    expect(res.json.accepted).toBe(1);
    const unknown = await v1('/group', { userId: 'nobody', groupId: 'g1' });
    expect(unknown.json).toMatchObject({ accepted: 0, skipped: 1 });
    await app.intake.drained();
    expect((await pendingOf('k'))?.account).toBe('g1');
    expect(JSON.stringify(await app.store.getPendingAccount('acme', 'g1'))).toContain('"mrr_cents":1234');
  });

  it('takes a group sent by the real library in the request right after its identify', async () => {
    const analytics = new Analytics({ writeKey, host: app.url, flushAt: 1, maxRetries: 0 });
    analytics.identify({ userId: 'f', traits: { email: 'f@acme.test' } });
    analytics.group({ userId: 'f', groupId: 'gf', traits: { name: 'GF' } });
    await analytics.closeAndFlush({ timeout: 10_000 });
    await app.intake.drained();
    expect((await pendingOf('f'))?.account).toBe('gf');
  }, 30_000);

  it('waits for queued identities before skipping a group whose person is not applied yet', async () => {
    await v1('/identify', { userId: 'q', traits: { email: 'q@acme.test' } });
    await app.intake.drained();
    // As if the identify were still queued: not in the store until the queue drains.
    let applied = false;
    const { store, intake } = app;
    const getPending = store.getPending.bind(store);
    store.getPending = async (site, id) => (applied ? getPending(site, id) : undefined);
    intake.depth = () => (applied ? 0 : 1);
    intake.drained = () => new Promise((r) => setTimeout(() => r(void (applied = true)), 50));
    const res = await v1('/group', { userId: 'q', groupId: 'gq' });
    expect(res.json).toMatchObject({ accepted: 1, skipped: 0 });
  });

  it('reads revenue from the trait the site names, in its unit', async () => {
    await setSiteSettings(app.store, 'acme', { revenue_trait: { name: 'arr_monthly', unit: 'cents' } });
    await v1('/batch', {
      batch: [
        { type: 'identify', userId: 'r', traits: { email: 'r@acme.test' } },
        { type: 'group', userId: 'r', groupId: 'g2', traits: { arr_monthly: 4200, monthly_spend: 99 } },
      ],
    });
    await app.intake.drained();
    const g2 = JSON.stringify(await app.store.getPendingAccount('acme', 'g2'));
    expect(g2).toContain('"mrr_cents":4200');
    expect(g2).toContain('"cf_monthly_spend":99'); // not revenue on this site: an ordinary trait
  });

  it('erases a user on a delete event and on Segment’s regulation shape', async () => {
    await v1('/batch', {
      batch: [
        { type: 'identify', userId: 'd1', traits: { email: 'd1@acme.test' } },
        { type: 'identify', userId: 'd2', traits: { email: 'd2@acme.test' } },
        { type: 'delete', userId: 'd1' },
      ],
    });
    await app.intake.drained();
    expect(await pendingOf('d1')).toBeUndefined();
    expect(await pendingOf('d2')).toBeDefined();
    const res = await v1('/batch', {
      regulationType: 'SUPPRESS_WITH_DELETE',
      subjectType: 'USER_ID',
      subjectIds: ['d2'],
    });
    expect(res.json).toMatchObject({ erased: 1 });
    await app.intake.drained();
    expect(await pendingOf('d2')).toBeUndefined();
    expect(await app.store.getPendingAccount('acme', privateAccountKey('d2'))).toBeUndefined();
  });

  it('erases a visible user by their integrator id', async () => {
    await v1('/identify', { userId: 'v', traits: { email: 'v@acme.test' } });
    await app.intake.drained();
    // Feedback makes the person visible.
    const fb = await app.call(
      'POST',
      '/api/widget/v1/acme/feedback',
      { message_id: 'fb-1', kind: 'idea', title: 'Dark mode', identity: { id: 'v', email: 'v@acme.test' } },
      { origin: 'https://app.acme.test' },
    );
    expect(fb.status).toBe(201);
    await app.intake.drained();
    expect(await app.store.getExternalUser('acme', 'v')).toBeDefined();
    await v1('/batch', [{ type: 'delete', userId: 'v' }]);
    await app.intake.drained();
    expect(await app.store.getExternalUser('acme', 'v')).toBeUndefined();
    expect(await app.store.getUserByEmail('acme', 'v@acme.test')).toBeUndefined();
  });
});

describe('Segment Webhooks destination posts', () => {
  const secret = 'segment-shared-secret-1';
  const sign = (text: string) => createHmac('sha1', secret).update(text).digest('hex');
  beforeEach(() => setSiteSettings(app.store, 'acme', { segment_secret: secret }));

  it('takes a single event and an array with a right signature', async () => {
    const one = JSON.stringify({ type: 'identify', userId: 'w1', traits: { email: 'w1@acme.test' } });
    expect((await v1('/batch', one, { 'x-signature': sign(one) })).status).toBe(202);
    const events = [
      { type: 'identify', userId: 'w2', traits: { email: 'w2@acme.test' } },
      { type: 'track', userId: 'w2', event: 'X' },
    ];
    const arr = JSON.stringify(events);
    expect((await v1('/batch', arr, { 'x-signature': sign(arr) })).json).toMatchObject({ accepted: 1, ignored: 1 });
    // Batch mode signs the first event only.
    expect((await v1('/batch', arr, { 'x-signature': sign(JSON.stringify(events[0])) })).status).toBe(202);
    await app.intake.drained();
    expect(await pendingOf('w1')).toBeDefined();
    expect(await pendingOf('w2')).toBeDefined();
  });

  it('answers 401 to a wrong signature and writes nothing', async () => {
    const body = JSON.stringify({ type: 'identify', userId: 'w3', traits: { email: 'w3@acme.test' } });
    const res = await v1('/batch', body, { 'x-signature': sign(body + ' ') });
    expect(res.status).toBe(401);
    expect(res.json.errors.details[0].field).toBe('X-Signature');
    await app.intake.drained();
    expect(await pendingOf('w3')).toBeUndefined();
  });
});

describe('customKey', () => {
  it.each([
    ['favoriteColor', 'cf_favorite_color'],
    ['plan-tier', 'cf_plan_tier'],
    ['Plan Tier', 'cf_plan_tier'],
    ['cf_x', 'cf_x'],
    ['$$', undefined],
  ])('%s → %s', (key, want) => expect(customKey(key)).toBe(want));
});
