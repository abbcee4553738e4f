/**
 * The only module that touches the network. Bodies are JSON strings, which fetch and
 * sendBeacon send as `text/plain`: a CORS-safelisted type, so no preflight, and the same body
 * works for a beacon (which cannot set headers). Failures never throw: a network error
 * or a CORS refusal comes back as status 0, which the policy retries; a page that removed
 * fetch gets fire-and-forget beacons.
 */
import { parse } from './json.ts';

export interface Reply {
  /** HTTP status, or 0 when no response could be read. */
  status: number;
  /** The Retry-After header, readable because the collector exposes it through CORS. */
  retryAfter: string | null;
  body: unknown;
}

export interface Transport {
  post(url: string, body: string, opts?: { keepalive?: boolean }): Promise<Reply>;
  get(url: string): Promise<Reply>;
  /** Queues a body for delivery after the page is gone; false when the browser refused it. */
  beacon(url: string, body: string): boolean;
}

const failed: Reply = { status: 0, retryAfter: null, body: undefined };

export function createTransport(win: Window): Transport {
  const beacon = (url: string, body: string): boolean => {
    try {
      return win.navigator.sendBeacon(url, body);
    } catch {
      return false; // missing, or refused (over the page's 64 KiB keepalive budget)
    }
  };
  const request = async (method: string, url: string, body?: string, keepalive = false): Promise<Reply> => {
    // A page that deleted fetch still has beacons: fire and forget beats never sending.
    if (typeof win.fetch !== 'function') return { ...failed, status: body && beacon(url, body) ? 202 : 0 };
    try {
      const res = await win.fetch(url, { method, body, keepalive, credentials: 'omit' });
      return { status: res.status, retryAfter: res.headers.get('Retry-After'), body: parse(await res.text()) };
    } catch {
      return failed;
    }
  };
  return {
    post: (url, body, opts) => request('POST', url, body, opts?.keepalive),
    get: (url) => request('GET', url),
    beacon,
  };
}
