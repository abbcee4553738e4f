/**
 * Client message ids are remembered exactly as long as a widget can retry them (the outbox
 * expiry, shared/limits.ts), in time buckets, and never for ids the server made itself. A retry
 * inside the window is still a duplicate after a restart, whether the first delivery reached a
 * checkpoint or only the intake log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { heapUsed } from './heap.ts';
import { OUTBOX_TTL_MS } from '../../shared/limits.ts';
import { OUTBOX_LIMITS } from '../../widget/outbox.ts';
import { open } from '../../server/engines/embedded/index.ts';
import { MessageWindow } from '../../server/engines/embedded/message-window.ts';
import { MemoryStore } from '../../server/engines/embedded/memory-store.ts';
import { applyIdentity } from '../../server/core/identify.ts';
import { Intake } from '../../server/intake/intake.ts';
import type { IdentifyItem } from '../../server/core/identify.ts';

const DAY = 864e5;

describe('MessageWindow', () => {
  it('keeps an id for the whole window and forgets it one bucket after', () => {
    const w = new MessageWindow(7 * DAY);
    w.add('a', 10 * DAY + 5);
    w.add('b', 12 * DAY);
    expect(w.has('a')).toBe(true);
    w.expire(17 * DAY + 5); // exactly a window after `a`
    expect(w.has('a')).toBe(true);
    w.expire(18 * DAY + 6); // a window and a bucket after
    expect(w.has('a')).toBe(false);
    expect(w.has('b')).toBe(true);
    expect(w.size).toBe(1);
  });

  it('costs a Set slot and one flat string per id, not a rope of the site and the id', async () => {
    const store = new MemoryStore();
    const n = 50_000;
    const before = heapUsed();
    // Ids as a widget makes them, each a fresh string as a request body's parse leaves it.
    for (let i = 0; i < n; i++) await store.addMessage('acme', JSON.parse(`"${randomUUID()}"`) as string, 0);
    const perId = (heapUsed() - before) / n;
    // "acme\0" + 36 characters flat is 64 B, the Set's slot ~26 B; as a rope ~115 B in all.
    expect(perId).toBeLessThan(104);
    expect(await store.hasMessage('acme', 'not-sent')).toBe(false);
  });

  it('is the widget outbox expiry', () => {
    expect(OUTBOX_LIMITS.ttlMs).toBe(OUTBOX_TTL_MS);
  });
});

const item = (message_id: string, name: string, mid?: string): IdentifyItem => ({
  message_id,
  version: mid === undefined ? [1, 1, message_id] : [3, 1, '0000:x', mid],
  identity: { id: 'e1', email: 'ann@acme.test', name, traits: {} },
});

it('remembers no message id the server made (an admin item sent without one)', async () => {
  const store = new MemoryStore();
  await applyIdentity(store, 'acme', item('adm:1:0000:x', 'Ann', ''), 1);
  expect(await store.hasMessage('acme', 'adm:1:0000:x')).toBe(false);
  expect([...(store as unknown as { messages: MessageWindow }).messages.entries()]).toEqual([]);
  // A client's own id (also through the admin API) is remembered.
  await applyIdentity(store, 'acme', item('c-1', 'Ann', 'c-1'), 1);
  expect(await store.hasMessage('acme', 'c-1')).toBe(true);
});

describe('a client retry across a restart', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** Opens the engine and intake on `dir` with the clock at `now`. */
  async function collector(dir: string, now: number) {
    const engine = await open({ dataDir: dir, intervalMs: 0, role: 'collector', clock: () => now });
    const intake = new Intake({ ...engine, clock: () => now, maxQueueDepth: Infinity });
    await intake.open();
    return {
      engine,
      intake,
      name: async () => (await engine.store.getPending('acme', 'e1'))?.profile.f.name,
      async stop(checkpoint: boolean) {
        if (checkpoint) await intake.close();
        else await intake.drained(); // as if killed: nothing checkpointed, the log holds it
        await engine.close();
      },
    };
  }

  for (const checkpointed of [true, false]) {
    it(`is a duplicate inside the window and applied after it (first delivery ${checkpointed ? 'checkpointed' : 'only in the log'})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-window-'));
      dirs.push(dir);
      const t0 = 100 * DAY;
      const a = await collector(dir, t0);
      await a.intake.identify('acme', [item('w-1', 'Ann')]);
      await a.stop(checkpointed);

      // Six days later the same message id arrives again, carrying something else: it is not applied.
      const b = await collector(dir, t0 + 6 * DAY);
      expect(await b.name()).toBe('Ann');
      await b.intake.identify('acme', [{ ...item('w-1', 'Changed'), version: [1, 2, 'w-1'] }]);
      await b.intake.drained();
      expect(await b.name()).toBe('Ann');
      await b.stop(true);

      // Past the window (and its bucket) the id is forgotten, as the outbox has dropped it. An id
      // is remembered from when it was applied: replayed from the log, that was at b's start.
      const c = await collector(dir, (checkpointed ? t0 : t0 + 6 * DAY) + OUTBOX_TTL_MS + 2 * DAY);
      await c.intake.identify('acme', [{ ...item('w-1', 'Later'), version: [1, 3, 'w-1'] }]);
      await c.intake.drained();
      expect(await c.name()).toBe('Later');
      await c.stop(true);
    });
  }
});
