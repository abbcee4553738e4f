/**
 * Reads a JSON request body ourselves instead of with express.json(), which silently skips
 * text/plain (the widget's content type) and reports nothing for other types (docs/DESIGN.md#measured-facts).
 * The size limit is enforced while reading, before any parsing; compressed and unlisted
 * content types are refused with 415.
 */
import type { RequestHandler } from 'express';
import { HttpError } from './errors.ts';
import { parseJson } from './json.ts';

export interface BodyOptions {
  maxBytes: number;
  /** Accepted media types, e.g. ['application/json', 'text/plain']. */
  types: string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function jsonBody({ maxBytes, types }: BodyOptions): RequestHandler {
  return async (req, _res, next) => {
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity')
      throw new HttpError(415, 'unsupported_media_type', 'compressed bodies are not accepted');
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!types.includes(type)) {
      throw new HttpError(415, 'unsupported_media_type', `content type must be ${types.join(' or ')}`);
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes)
      throw new HttpError(413, 'payload_too_large', `request body is larger than ${maxBytes} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes)
        throw new HttpError(413, 'payload_too_large', `request body is larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
    let text: string;
    try {
      text = utf8.decode(Buffer.concat(chunks, size));
    } catch {
      throw new HttpError(400, 'invalid_request', 'request body is not valid UTF-8');
    }
    req.body = parseJson(text);
    next();
  };
}
