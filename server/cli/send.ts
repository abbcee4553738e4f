/**
 * Sending one chunk to the transactional import, with the outcome as data: imported, refused
 * per record (422), refused as a whole, or a reason to stop. 429, 408 and 5xx answers and
 * network failures are retried with exponential backoff and jitter, honouring Retry-After.
 */

export interface Detail {
  index?: number;
  field: string;
  message: string;
}

export type Outcome =
  | { kind: 'ok'; body: { warnings?: Detail[] } }
  | { kind: 'invalid'; status: number; message: string; details: Detail[] }
  | { kind: 'refused'; status: number; code: string; message: string }
  | { kind: 'fatal'; status: number; message: string };

export interface SendOptions {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Attempts for one chunk before giving up on the collector. @default 8 */
  maxAttempts?: number;
}

const RETRY_AFTER_MAX_S = 300;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;

/** Milliseconds to wait before attempt `attempt + 1`: Retry-After when given, else 0.5 s·2ⁿ ±10 %, capped. */
export function retryDelay(attempt: number, retryAfter: string | null, random: () => number = Math.random): number {
  const seconds = retryAfter === null ? NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, RETRY_AFTER_MAX_S) * 1000;
  const base = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(base * (0.9 + 0.2 * random()));
}

const retryable = (status: number) =>
  status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);

interface Envelope {
  errors?: { type?: string; message?: string; details?: Detail[] };
}

/** POSTs `body` as JSON with the admin key and classifies the answer. */
export async function postChunk(url: string, key: string, body: unknown, o: SendOptions = {}): Promise<Outcome> {
  const doFetch = o.fetch ?? fetch;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const attempts = o.maxAttempts ?? 8;
  const payload = JSON.stringify(body);
  let last = 'no attempt made';
  for (let attempt = 0; attempt < attempts; attempt++) {
    let res: Response;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: payload,
      });
    } catch (e) {
      last = `could not reach ${url}: ${(e as Error).cause ? String((e as { cause: unknown }).cause) : (e as Error).message}`;
      await sleep(retryDelay(attempt, null, o.random));
      continue;
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON: classified by status alone */
    }
    const err = (json as Envelope | null)?.errors;
    if (res.ok) return { kind: 'ok', body: (json ?? {}) as { warnings?: Detail[] } };
    if (retryable(res.status)) {
      last = `the collector answered ${res.status}${err?.message ? `: ${err.message}` : ''}`;
      await sleep(retryDelay(attempt, res.headers.get('retry-after'), o.random));
      continue;
    }
    const message = err?.message ?? `HTTP ${res.status}`;
    if (res.status === 422 && err?.details?.length)
      return { kind: 'invalid', status: 422, message, details: err.details };
    if (res.status === 401 || res.status === 403)
      return { kind: 'fatal', status: res.status, message: `the admin key was refused: ${message}` };
    if (res.status === 404)
      return { kind: 'fatal', status: 404, message: `no import route at ${url}: is --url the collector's address?` };
    return { kind: 'refused', status: res.status, code: err?.type ?? 'http_error', message };
  }
  return { kind: 'fatal', status: 0, message: `gave up after ${attempts} attempts; ${last}` };
}
