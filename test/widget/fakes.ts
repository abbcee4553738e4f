/** Test doubles for the widget's seams: a scripted transport and an in-memory Storage. */
import type { Reply, Transport } from '../../widget/transport.ts';

export interface Sent {
  url: string;
  body: any;
  keepalive: boolean;
  via: 'fetch' | 'beacon';
}

/**
 * A transport that records every request and answers from a script of statuses (then 202).
 * `status` 0 stands for a network failure.
 */
export function fakeTransport(script: Array<number | Partial<Reply>> = []) {
  const sent: Sent[] = [];
  /** URLs of GET requests, in order. */
  const gets: string[] = [];
  const queue = [...script];
  let beaconOk = true;
  let ideas: unknown[] = [];
  const transport: Transport = {
    async post(url, body, opts) {
      sent.push({ url, body: JSON.parse(body), keepalive: !!opts?.keepalive, via: 'fetch' });
      const next = queue.shift() ?? {};
      const reply = typeof next === 'number' ? { status: next } : next;
      const status = reply.status ?? (url.endsWith('/feedback') ? 201 : 202);
      return { status, retryAfter: reply.retryAfter ?? null, body: reply.body ?? { status: 'queued', rejected: [] } };
    },
    async get(url) {
      gets.push(url);
      return { status: 200, retryAfter: null, body: { ideas } };
    },
    beacon(url, body) {
      if (!beaconOk) return false;
      sent.push({ url, body: JSON.parse(body), keepalive: false, via: 'beacon' });
      return true;
    },
  };
  return {
    transport,
    sent,
    gets,
    /** Identities sent so far, flattened over requests. */
    identities: () => sent.filter((s) => s.url.endsWith('/identify')).flatMap((s) => s.body.identities),
    script: (...more: Array<number | Partial<Reply>>) => queue.push(...more),
    refuseBeacons: () => {
      beaconOk = false;
    },
    setIdeas: (list: unknown[]) => {
      ideas = list;
    },
  };
}

/** A Storage whose contents outlive the client that wrote them: a reload keeps it. */
export function memoryStorage(): Storage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => {
      data.set(k, String(v));
    },
    removeItem: (k) => {
      data.delete(k);
    },
    key: (n) => [...data.keys()][n] ?? null,
  };
}

/** Lets pending promise callbacks run (inside fake timers). */
export async function settle(times = 5) {
  for (let i = 0; i < times; i++) await Promise.resolve();
}
