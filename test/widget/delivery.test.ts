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

describe('delivery', () => {
  it('retries a 503 with the same message_id until it succeeds', async () => {
    const { client, sent } = setup([503, 503]);
    client.identify(ann);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(3);
    const ids = sent.map((s) => s.body.identities[0].message_id);
    expect(new Set(ids).size).toBe(1);
  });

  it('backs off exponentially with jitter between retries', async () => {
    const { client, sent } = setup([0, 0, 0]);
    client.identify(ann);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toHaveLength(1);
    // random() = 0.5: waits 500 ms, then 1000 ms, then 2000 ms.
    await vi.advanceTimersByTimeAsync(499);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent).toHaveLength(4);
  });

  it('honours Retry-After on 429', async () => {
    const { client, sent } = setup([{ status: 429, retryAfter: '30' }]);
    client.identify(ann);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
  });

  it('does not let a new identify jump a pending Retry-After', async () => {
    const { client, sent } = setup([{ status: 503, retryAfter: '10' }]);
    client.identify(ann);
    await vi.advanceTimersByTimeAsync(1000);
    client.identify(bob);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toHaveLength(2);
    expect(sent[1].body.identities).toHaveLength(2);
  });

  it('drops a batch on 400 and does not retry it', async () => {
    const { client, sent } = setup([400]);
    client.identify(ann);
    await vi.runAllTimersAsync();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(sent).toHaveLength(1);
  });

  it('does not retry 501', async () => {
    const { client, sent } = setup([501]);
    client.identify(ann);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(1);
  });

  it('re-sends an undelivered identity on the next page load with the same message_id', async () => {
    const first = setup([0, 0, 0, 0, 0, 0]);
    first.client.identify(ann);
    await vi.advanceTimersByTimeAsync(1000);
    expect(first.sent).toHaveLength(1);
    const second = setup([], first.disk); // the reload: a new client over the same storage
    second.client.identify(ann);
    await vi.advanceTimersByTimeAsync(1000);
    expect(second.sent).toHaveLength(1);
    expect(second.sent[0].body.identities[0].message_id).toBe(first.sent[0].body.identities[0].message_id);
    const third = setup([], first.disk);
    third.client.identify(ann);
    await vi.runAllTimersAsync();
    expect(third.sent).toHaveLength(0);
  });

  it('drops an identity too big for any request and still sends the others', async () => {
    const { client, identities } = setup();
    client.identify({
      email: 'huge@x.test',
      ...Object.fromEntries(Array.from({ length: 70 }, (_, n) => [`cf_k${n}`, 'y'.repeat(1000)])),
    });
    client.identify(bob);
    await vi.runAllTimersAsync();
    expect(identities().map((i: any) => i.email)).toEqual(['bob@acme.test']);
  });

  it('keeps working in memory when storage throws', async () => {
    const broken = memoryStorage();
    broken.setItem = () => {
      throw new DOMException('full', 'QuotaExceededError');
    };
    broken.getItem = () => {
      throw new DOMException('no', 'SecurityError');
    };
    const { client, sent } = setup([503], broken);
    for (let i = 0; i < 3; i++) client.identify(ann);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(2);
    expect(sent[1].body.identities).toHaveLength(1);
  });

  it('hands queued items to sendBeacon when the page hides', async () => {
    const { client, sent } = setup();
    client.identify(ann);
    client.flushOnHide();
    expect(sent).toEqual([
      expect.objectContaining({ via: 'beacon', url: 'https://c.test/api/widget/v1/demo/identify' }),
    ]);
    await vi.runAllTimersAsync();
    expect(sent).toHaveLength(1);
  });

  it('falls back to keepalive fetch when sendBeacon refuses', async () => {
    const { client, sent, refuseBeacons } = setup();
    refuseBeacons();
    client.identify(ann);
    client.flushOnHide();
    await vi.runAllTimersAsync();
    expect(sent).toEqual([expect.objectContaining({ via: 'fetch', keepalive: true })]);
  });
});
