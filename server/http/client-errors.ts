/**
 * Answers for requests that Node's HTTP parser refuses before Express sees them: both
 * `Transfer-Encoding` and `Content-Length`, headers over the size limit, a garbage request line,
 * headers or a body that never finish arriving. Node's own answer is a bare status with an empty
 * body; these get the one error envelope like every other error (docs/API.md#http-api), and the
 * connection is closed, since the parser cannot tell where the next request would start.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { envelope, HttpError } from './errors.ts';
import { BASE_HEADERS } from './security.ts';

/** A parser or timeout error as Node hands it to `clientError`. */
export interface ClientError extends Error {
  code?: string;
  /** llhttp's fixed description, e.g. "Invalid method encountered". */
  reason?: string;
}

/** The error answer a parser failure deserves. */
export function clientErrorOf(err: ClientError): HttpError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new HttpError(431, 'payload_too_large', 'request headers are too large', [
        { field: '(headers)', message: 'headers exceed the size limit' },
      ]);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new HttpError(413, 'payload_too_large', 'chunk extensions are too large', [
        { field: '(body)', message: 'chunk extensions exceed the size limit' },
      ]);
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new HttpError(408, 'invalid_request', 'the request did not arrive in time', [
        { field: '(request)', message: 'timed out' },
      ]);
    default:
      return new HttpError(400, 'invalid_request', 'the request is not valid HTTP', [
        // llhttp's reasons are fixed English phrases: safe to pass on, and they say what is wrong.
        { field: '(request)', message: typeof err.reason === 'string' ? err.reason : 'malformed request' },
      ]);
  }
}

/** A whole HTTP/1.1 answer, as bytes to write on a socket that Express never got. */
export function rawErrorResponse(e: HttpError): string {
  const body = envelope(e);
  const headers: Record<string, string | number> = {
    ...BASE_HEADERS,
    'Cache-Control': 'no-store',
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  };
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  return `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\n${head.join('')}\r\n${body}`;
}

/**
 * The `clientError` listener's work: answer with the envelope and close, when an answer can
 * still be written. `responding` says whether an answer has started on this connection (a
 * second one would corrupt the stream); a reset connection gets nothing either.
 */
export function answerClientError(err: ClientError, socket: Socket, responding: boolean): void {
  if (err.code !== 'ECONNRESET' && socket.writable && !responding) socket.write(rawErrorResponse(clientErrorOf(err)));
  // Ends once the answer is flushed, then closes.
  socket.destroySoon();
}
