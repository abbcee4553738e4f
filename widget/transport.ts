/**
 * The only module that touches the network. Bodies are JSON strings, which fetch and
 * sendBeacon send as `text/plain`: a CORS-safelisted type, so no preflight, and the same body
 * works for a beacon (which cannot set headers). Failures never throw: a network error,
 * a CORS refusal or a missing fetch all come back as status 0, which the policy retries.
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

/** Falls back to XMLHttpRequest on pages that removed or never had fetch. */
function xhr(method: string, url: string, body?: string): Promise<Reply> {
  return new Promise((resolve) => {
    try {
      const r = new XMLHttpRequest();
      r.open(method, url);
      r.onload = () => resolve({ status: r.status, retryAfter: r.getResponseHeader('Retry-After'), body: parse(r.responseText) });
      r.onerror = r.ontimeout = r.onabort = () => resolve(failed);
      r.send(body);
    } catch {
      resolve(failed);
    }
  });
}

export function createTransport(win: Window): Transport {
  const request = async (method: string, url: string, body?: string, keepalive = false): Promise<Reply> => {
    if (typeof win.fetch !== 'function') return xhr(method, url, body);
    try {
      const res = await win.fetch(url, { method, body, keepalive, credentials: 'omit', mode: 'cors' });
      return { status: res.status, retryAfter: res.headers.get('Retry-After'), body: parse(await res.text()) };
    } catch {
      return failed;
    }
  };
  return {
    post: (url, body, opts) => request('POST', url, body, opts?.keepalive),
    get: (url) => request('GET', url),
    beacon(url, body) {
      try {
        return typeof win.navigator.sendBeacon === 'function' && win.navigator.sendBeacon(url, body);
      } catch {
        return false;
      }
    },
  };
}
