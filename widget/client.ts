/**
 * The identify and feedback pipeline, free of any DOM: normalize → throttle → coalesce in the
 * outbox → deliver in batches with retries. Built by a factory from its collaborators
 * (transport, storage, clock, randomness), so tests drive it with fakes and fake timers.
 */
import { PAGE_URL_MAX_CHARS, WIDGET_API_PREFIX } from '../shared/limits.ts';
import { createAcks } from './acks.ts';
import { nextUnit, type Unit } from './batch.ts';
import { fingerprint, normalizeIdentity, type Identity } from './identity.ts';
import { silent, type Logger } from './log.ts';
import { createOutbox, type Item, type OutboxLimits } from './outbox.ts';
import { classify, retryDelay, type Outcome } from './policy.ts';
import type { FeedbackDraft, SendResult } from './protocol.ts';
import type { KV } from './storage.ts';
import type { Transport } from './transport.ts';

export interface ClientOptions {
  site: string;
  /** The collector's origin, e.g. `https://feedback.example.com`. */
  origin: string;
  transport: Transport;
  storage: KV;
  clock?: () => number;
  random?: () => number;
  log?: Logger;
  /** Fields the browser adds to every identity (time zone, locale). */
  env?: () => Record<string, string>;
  /** The page address sent with feedback. */
  pageUrl?: () => string;
  /** How long identities gather before a batch leaves. @default 1000 */
  batchDelayMs?: number;
  limits?: Partial<OutboxLimits>;
}

export interface Client {
  identify(raw: unknown): void;
  /** Forgets the current identity: later feedback carries nobody's identity. */
  logout(): void;
  identity(): Identity | null;
  /** Sends the panel's draft (empty fields already left out) with the page address and current identity. */
  sendFeedback(draft: FeedbackDraft): Promise<SendResult>;
  /**
   * The collector's answer to an ideas search as it came: an `IdeasReply` (protocol.ts), or an
   * error body or nothing when the search failed. Unchecked: the panel keeps only well-formed ideas.
   */
  searchIdeas(q: string): Promise<unknown>;
  /** Sends everything queued now, ignoring the batch delay. */
  flush(): Promise<void>;
  /** The page is going away: hand everything queued to sendBeacon. */
  flushOnHide(): void;
  /** The page is visible again: items handed to beacons become eligible for retry. */
  resume(): void;
}

/** A message_id: unique, stable for the item's life, within the wire's 64-char alphabet. */
function newId(): string {
  try {
    return crypto.randomUUID();
  } catch {
    return (Date.now() + Math.random()).toString(36) + Math.random().toString(36); // insecure context: no randomUUID
  }
}

export function createClient(opts: ClientOptions): Client {
  const { site, origin, transport, storage } = opts;
  const clock = opts.clock ?? Date.now;
  const random = opts.random ?? Math.random;
  const log = opts.log ?? silent;
  const env = opts.env ?? (() => ({}));
  const batchDelayMs = opts.batchDelayMs ?? 1000;
  const prefix = `parley:v1:${site}:`;
  const outbox = createOutbox({ storage, key: `${prefix}outbox`, clock, limits: opts.limits });
  const acks = createAcks({ storage, key: `${prefix}acks`, clock });
  const url = (path: string) => `${origin}${WIDGET_API_PREFIX}${encodeURIComponent(site)}/${path}`;

  let current: Identity | null = null;
  let currentFp = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let due = Infinity;
  let retryAt = 0;
  let attempt = 0;
  let running: Promise<void> | null = null;
  const beaconed = new Set<string>();
  const waiting = new Map<string, (r: SendResult) => void>();

  const settle = (items: readonly Item[], result: SendResult) => {
    for (const i of items) {
      waiting.get(i.id)?.(result);
      waiting.delete(i.id);
    }
  };

  const dropped = (items: Item[]) => {
    if (!items.length) return;
    if (__DEBUG__) log.warn('outbox full or expired; dropped', items);
    settle(items, 'failed');
  };

  /** Arms the flush timer for `ms` from now, never earlier than a pending retry allows. */
  const schedule = (ms: number) => {
    const at = Math.max(clock() + ms, retryAt);
    if (timer !== undefined && due <= at) return;
    clearTimeout(timer);
    due = at;
    timer = setTimeout(() => void flush(), at - clock());
  };

  /** The next request: skips items already handed to a beacon, drops identities too big to send. */
  const next = (): Unit | undefined => {
    for (;;) {
      const { unit, oversized } = nextUnit(
        outbox.list().filter((i) => !beaconed.has(i.id)),
        clock(),
      );
      if (!oversized) return unit;
      if (__DEBUG__) log.warn('identity over 64 KB; dropped');
      outbox.remove([oversized.id]);
    }
  };

  /** Applies a reply to the outbox: the one place where outcomes turn into effects. */
  const conclude = (unit: Unit, status: number, retryAfter: string | null, body: unknown): Outcome => {
    const outcome = classify(status);
    if (outcome === 'retry') {
      const delay = retryDelay(attempt++, retryAfter, clock(), random);
      retryAt = clock() + delay;
      if (__DEBUG__) log.warn(unit.path, status, 'retry in', delay);
      schedule(delay);
      settle(unit.items, 'queued');
      return outcome;
    }
    attempt = 0;
    retryAt = 0;
    outbox.remove(unit.items.map((i) => i.id));
    if (__DEBUG__ && outcome === 'drop') log.warn(unit.path, status, 'dropped', body);
    if (outcome === 'ok' && unit.path === 'identify') {
      const rejected = new Set<number>();
      const list = (body as { rejected?: { index?: unknown; errors?: unknown }[] } | undefined)?.rejected;
      for (const r of Array.isArray(list) ? list : []) {
        rejected.add(Number(r?.index));
        if (__DEBUG__) log.warn('identity rejected', r?.errors);
      }
      unit.items.forEach((i, n) => {
        if (!rejected.has(n) && i.fp) acks.record(i.key, i.fp);
      });
    }
    settle(unit.items, outcome === 'ok' ? 'sent' : 'failed');
    return outcome;
  };

  const deliver = async (unit: Unit, keepalive = false): Promise<Outcome> => {
    const reply = await transport.post(url(unit.path), unit.body, { keepalive });
    return conclude(unit, reply.status, reply.retryAfter, reply.body);
  };

  function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    due = Infinity;
    if (running) return running;
    const first = next();
    if (!first) return Promise.resolve();
    running = (async () => {
      try {
        for (let unit: Unit | undefined = first; unit; unit = next()) {
          if ((await deliver(unit)) === 'retry') break;
        }
      } catch (e) {
        if (__DEBUG__) log.warn('flush failed', e);
      } finally {
        running = null;
      }
    })();
    return running;
  }

  if (outbox.list().length) schedule(batchDelayMs);

  return {
    identify(raw) {
      const identity = normalizeIdentity(raw, env());
      if (typeof identity === 'string') {
        if (__DEBUG__) log.warn(identity);
        return;
      }
      const fp = fingerprint(identity);
      // A single-page app calls identify on every route change: the same content costs nothing.
      if (current && fp === currentFp) return;
      current = identity;
      currentFp = fp;
      if (acks.fresh(identity.id, fp) || outbox.find('identify', identity.id)?.fp === fp) return;
      dropped(outbox.add({ id: newId(), kind: 'identify', key: identity.id, fp, at: clock(), data: identity }));
      schedule(batchDelayMs);
    },
    logout() {
      current = null;
      currentFp = '';
    },
    identity: () => current,
    async sendFeedback(draft) {
      const data: Record<string, unknown> = { ...draft };
      const page = opts.pageUrl?.() ?? '';
      if (/^https?:/.test(page)) data.page_url = page.slice(0, PAGE_URL_MAX_CHARS);
      if (current) {
        data.identity = current;
        delete data.email;
      }
      const id = newId();
      const item: Item = { id, kind: 'feedback', key: id, at: clock(), data };
      const result = new Promise<SendResult>((resolve) => waiting.set(id, resolve));
      dropped(outbox.add(item));
      await flush();
      // Still waiting means the flush stopped on another item's retry: ours is safe in the outbox.
      settle([item], 'queued');
      return result;
    },
    searchIdeas: async (q) => (await transport.get(url(`ideas?q=${encodeURIComponent(q)}`))).body,
    flush,
    flushOnHide() {
      for (let unit = next(); unit; unit = next()) {
        unit.items.forEach((i) => beaconed.add(i.id));
        const target = url(unit.path);
        if (transport.beacon(target, unit.body)) continue;
        const sent = unit;
        void transport
          .post(target, sent.body, { keepalive: true })
          .then((r) => conclude(sent, r.status, r.retryAfter, r.body))
          .catch((e) => {
            if (__DEBUG__) log.warn('beacon fallback failed', e);
          });
      }
    },
    resume() {
      beaconed.clear();
      if (outbox.list().length) schedule(batchDelayMs);
    },
  };
}
