/**
 * The console's only way to the collector: an admin route with the key as a bearer token — GET
 * for the lists and pages, POST for recording feedback and importing. Failures become an
 * ApiError carrying the envelope's type and details (docs/API.md#errors), so views can say what
 * went wrong (a bad key reads differently from a collector that is down) and put a field's
 * message next to that field.
 */

export class ApiError extends Error {
  /** HTTP status, or 0 when the collector could not be reached at all. */
  readonly status: number;
  /** The error envelope's `type` (docs/API.md#http-api), or 'network'. */
  readonly type: string;
  /** The envelope's `details`: the field (and batch index) each message is about. */
  readonly details: Detail[];
  /** `Retry-After` in seconds, when the collector asked to wait (429, 503). */
  readonly retryAfter: number | null;

  constructor(status: number, type: string, message: string, details: Detail[] = [], retryAfter: number | null = null) {
    super(message);
    this.status = status;
    this.type = type;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

export interface Detail {
  field: string;
  message: string;
  index?: number;
}

export type Get = <T>(path: string) => Promise<T>;
export type Post = <T>(path: string, body: unknown) => Promise<T>;
/** PUT or DELETE (saved segments); a 204 answers null. */
export type Send = <T>(method: 'PUT' | 'DELETE', path: string, body?: unknown) => Promise<T>;
/** The body of a GET as a Blob (a CSV export), for the console to save as a file. */
export type Download = (path: string) => Promise<Blob>;

const detailsOf = (raw: unknown): Detail[] =>
  Array.isArray(raw)
    ? raw.filter(
        (d): d is Detail =>
          typeof d === 'object' && d !== null && typeof d.field === 'string' && typeof d.message === 'string',
      )
    : [];

/** One admin request; every answer that is not a 2xx with a JSON body becomes an ApiError. */
async function request<T>(
  key: string,
  fetcher: typeof fetch,
  path: string,
  body?: unknown,
  method = body === undefined ? 'GET' : 'POST',
): Promise<T> {
  let res: Response;
  try {
    res = await fetcher(`/api/v2/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'The collector cannot be reached. Is it running?');
  }
  if (res.status === 204) return null as T;
  const json = await res.json().catch(() => null);
  if (res.ok && json) return json as T;
  throw failure(res, json);
}

/** The ApiError an answer that is not a success stands for. */
function failure(res: Response, json: any): ApiError {
  const err = json?.errors;
  const wait = Number(res.headers.get('retry-after'));
  return new ApiError(
    res.status,
    typeof err?.type === 'string' ? err.type : 'application_error',
    typeof err?.message === 'string' ? err.message : `The collector answered ${res.status}.`,
    detailsOf(err?.details),
    Number.isFinite(wait) && wait > 0 ? wait : null,
  );
}

/** A GET bound to one admin key; `fetcher` is injectable so a test can stand in for fetch. */
export function createApi(key: string, fetcher: typeof fetch = (...a) => fetch(...a)): Get {
  return <T>(path: string) => request<T>(key, fetcher, path);
}

/** A POST of a JSON body bound to one admin key. */
export function createPost(key: string, fetcher: typeof fetch = (...a) => fetch(...a)): Post {
  return <T>(path: string, body: unknown) => request<T>(key, fetcher, path, body);
}

/** A PUT or DELETE bound to one admin key. */
export function createSend(key: string, fetcher: typeof fetch = (...a) => fetch(...a)): Send {
  return <T>(method: 'PUT' | 'DELETE', path: string, body?: unknown) => request<T>(key, fetcher, path, body, method);
}

/**
 * A GET whose body is kept as a Blob. A plain download link cannot carry the admin key's
 * header, so the console fetches the export itself and saves the Blob (Export in Toolbar.tsx).
 */
export function createDownload(key: string, fetcher: typeof fetch = (...a) => fetch(...a)): Download {
  return async (path) => {
    let res: Response;
    try {
      res = await fetcher(`/api/v2/admin${path}`, { headers: { authorization: `Bearer ${key}`, accept: 'text/csv' } });
    } catch {
      throw new ApiError(0, 'network', 'The collector cannot be reached. Is it running?');
    }
    if (res.ok) return res.blob();
    throw failure(res, await res.json().catch(() => null));
  };
}

/** What a person should read for an error: a rejected key gets instructions, not jargon. */
export function explain(e: unknown): string {
  if (!(e instanceof ApiError)) return 'Something went wrong in the console. Reload the page to try again.';
  if (e.status === 401)
    return 'This admin key was not accepted. Use the demo admin key that npm start printed, or the admin_key from `parley sites create`.';
  if (e.status === 429) return 'Too many requests for now. Wait a moment and reload.';
  return e.message;
}
