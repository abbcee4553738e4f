/**
 * The one error path (docs/API.md#http-api). Routes throw HttpError: they validate with zod's
 * `safeParse` and turn its issues into the envelope's details themselves, so no ZodError ever
 * arrives here. Express 5 forwards sync and async throws to `errorHandler`, which writes the
 * envelope. An error the app did not make is foreign: one carrying an HTTP `status` (Express's
 * own, e.g. a path whose %-escape does not decode) is mapped by `fromForeign`; anything else
 * is a 500 that says nothing about its cause. Nothing else in the app writes an error
 * response, and no response ever carries a stack.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';

export type ErrorType =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'rate_limited'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unavailable'
  | 'application_error';

export interface Detail {
  index?: number;
  field: string;
  message: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
    readonly details: Detail[] = [],
    /** Seconds, for 429 and 503. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export const invalid = (message: string, details: Detail[] = []) =>
  new HttpError(400, 'invalid_request', message, details);

/**
 * Errors thrown by Express and body readers carry `status`/`type`; map the ones we can meet to
 * our types. The router decodes path parameters and throws a URIError on a bad %-encoding
 * (`/api/widget/v1/%E0%A4%A/identify`): that is the path's fault, not the body's.
 */
function fromForeign(err: unknown): HttpError {
  const e = err as { status?: number; type?: string };
  if (err instanceof URIError)
    return invalid('the URL path is not valid percent-encoding', [{ field: '(path)', message: 'malformed %-escape' }]);
  if (e?.type === 'entity.too.large' || e?.status === 413)
    return new HttpError(413, 'payload_too_large', 'request body is too large');
  if (e?.status === 400) return invalid('request body could not be read');
  return new HttpError(500, 'application_error', 'something went wrong on our side');
}

/** The one error envelope, as JSON text: what every error answer's body is. */
export function envelope(e: HttpError): string {
  return JSON.stringify({
    errors: { type: e.type, message: e.message, ...(e.details.length ? { details: e.details } : {}) },
  });
}

/**
 * Writes an error answer on a Node response: the envelope, its status and `Retry-After`. The
 * Express handler below and the answers given outside Express (http/server.ts) both use it.
 */
export function writeError(res: ServerResponse, e: HttpError): void {
  if (e.retryAfter !== undefined) res.setHeader('Retry-After', String(Math.ceil(e.retryAfter)));
  if (res.headersSent) return;
  const body = envelope(e);
  res.statusCode = e.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function errorHandler(log: (err: unknown, req: unknown) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = err instanceof HttpError ? err : fromForeign(err);
    if (e.status >= 500) log(err, req);
    writeError(res, e);
  };
}

export const notFound: RequestHandler = () => {
  throw new HttpError(404, 'not_found', 'no such route');
};
