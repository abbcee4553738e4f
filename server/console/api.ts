/**
 * The console's only way to the collector: GET an admin route with the key as a bearer token.
 * Failures become an ApiError carrying the envelope's type, so views can say what went wrong
 * (a bad key reads differently from a collector that is down).
 */

export class ApiError extends Error {
  /** HTTP status, or 0 when the collector could not be reached at all. */
  readonly status: number;
  /** The error envelope's `type` (docs/API.md#http-api), or 'network'. */
  readonly type: string;

  constructor(status: number, type: string, message: string) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export type Get = <T>(path: string) => Promise<T>;

/** A GET bound to one admin key; `fetcher` is injectable so a test can stand in for fetch. */
export function createApi(key: string, fetcher: typeof fetch = (...a) => fetch(...a)): Get {
  return async <T>(path: string): Promise<T> => {
    let res: Response;
    try {
      res = await fetcher(`/api/v2/admin${path}`, {
        headers: { authorization: `Bearer ${key}`, accept: 'application/json' },
      });
    } catch {
      throw new ApiError(0, 'network', 'The collector cannot be reached. Is it running?');
    }
    const body = await res.json().catch(() => null);
    if (res.ok && body) return body as T;
    const err = body?.errors;
    throw new ApiError(
      res.status,
      typeof err?.type === 'string' ? err.type : 'application_error',
      typeof err?.message === 'string' ? err.message : `The collector answered ${res.status}.`,
    );
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
