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

describe('identify', () => {
  it('sends ten identical identifies as one request', async () => {
    const { client, sent } = setup();
    for (let i = 0; i < 10; i++) client.identify(ann);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(1);
    expect(sent[0].url).toBe('https://c.test/api/widget/v1/demo/identify');
    expect(sent[0].body.identities).toHaveLength(1);
    expect(sent[0].body.identities[0]).toMatchObject({
      id: '123',
      email: 'ann@acme.test',
      account: { id: 'acme', monthly_rate: 99.5 },
    });
    expect(sent[0].body.identities[0].message_id).toMatch(/^[A-Za-z0-9_.:-]{1,64}$/);
  });

  it('sends nothing for an unchanged identity after a reload', async () => {
    const first = setup();
    first.client.identify(ann);
    await vi.runAllTimersAsync();
    const second = setup([], first.disk);
    second.client.identify(ann);
    await vi.runAllTimersAsync();
    expect(first.sent).toHaveLength(1);
    expect(second.sent).toHaveLength(0);
  });

  it('sends the same identity again once 24 hours have passed', async () => {
    const first = setup();
    first.client.identify(ann);
    await vi.runAllTimersAsync();
    vi.setSystemTime(Date.now() + 24 * 3600e3 + 1);
    const second = setup([], first.disk);
    second.client.identify(ann);
    await vi.runAllTimersAsync();
    expect(second.sent).toHaveLength(1);
  });

  it('sends a changed identity after a reload', async () => {
    const first = setup();
    first.client.identify(ann);
    await vi.runAllTimersAsync();
    const second = setup([], first.disk);
    second.client.identify({ ...ann, account: { id: 'acme', monthly_rate: 199 } });
    await vi.runAllTimersAsync();
    expect(second.identities()[0].account.monthly_rate).toBe(199);
  });

  it('coalesces identities per user, latest wins, in one request', async () => {
    const { client, sent } = setup();
    client.identify(ann);
    client.identify({ ...ann, name: 'Ann B.' });
    client.identify(bob);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(1);
    expect(sent[0].body.identities.map((i: any) => [i.id, i.name])).toEqual([
      ['123', 'Ann B.'],
      ['b', undefined],
    ]);
  });

  it('waits for the batch delay before sending', async () => {
    const { client, sent } = setup();
    client.identify(ann);
    await vi.advanceTimersByTimeAsync(900);
    expect(sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(sent).toHaveLength(1);
  });

  it('splits more than 20 users into requests of at most 20', async () => {
    const { client, sent } = setup();
    for (let i = 0; i < 45; i++) client.identify({ id: `u${i}`, email: `u${i}@x.test` });
    await vi.runAllTimersAsync();
    expect(sent.map((s) => s.body.identities.length)).toEqual([20, 20, 5]);
  });

  it('keeps every request under 64 KB', async () => {
    const { client, sent } = setup();
    const big = 'x'.repeat(1000);
    for (let i = 0; i < 20; i++) {
      const traits = Object.fromEntries(Array.from({ length: 5 }, (_, n) => [`cf_t${n}`, big]));
      client.identify({ id: `u${i}`, email: `u${i}@x.test`, ...traits });
    }
    await vi.runAllTimersAsync();
    expect(sent.length).toBeGreaterThan(1);
    for (const s of sent) expect(new TextEncoder().encode(JSON.stringify(s.body)).length).toBeLessThanOrEqual(65536);
    expect(sent.flatMap((s) => s.body.identities)).toHaveLength(20);
  });

  it('adds the time zone and locale, and keeps only known fields and cf_ traits', async () => {
    const { client, identities } = setup([], memoryStorage(), {
      env: () => ({ timezone: 'Europe/Berlin', locale: 'de-DE' }),
    });
    client.identify({
      ...ann,
      id: 42,
      cf_persona: 'dev',
      password: 'x',
      cf_obj: { a: 1 },
      location: { country: 'DE', x: 1 },
      accounts: [{ id: 'globex', plan: 'Pro', x: 1 }, 'junk'],
    });
    await vi.runAllTimersAsync();
    const sentIdentity = identities()[0];
    expect(sentIdentity).toMatchObject({
      id: '42',
      timezone: 'Europe/Berlin',
      locale: 'de-DE',
      cf_persona: 'dev',
      location: { country: 'DE' },
      // Each entry shaped like `account`; one with nothing usable goes as null for the collector to refuse.
      accounts: [{ id: 'globex', plan: 'Pro' }, null],
    });
    expect(sentIdentity).not.toHaveProperty('password');
    expect(sentIdentity).not.toHaveProperty('cf_obj');
    expect(sentIdentity.location).not.toHaveProperty('x');
  });

  it('ignores identities without an email', async () => {
    const { client, sent } = setup();
    client.identify({ id: '1' });
    client.identify('ann@acme.test');
    client.identify(null);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(0);
  });

  it('does not throttle an identity the collector rejected', async () => {
    const first = setup([
      { status: 202, body: { status: 'queued', accepted: 0, rejected: [{ index: 0, errors: [] }] } },
    ]);
    first.client.identify(ann);
    await vi.runAllTimersAsync();
    const second = setup([], first.disk);
    second.client.identify(ann);
    await vi.runAllTimersAsync();
    expect(second.sent).toHaveLength(1);
  });
});
