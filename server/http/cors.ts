/**
 * CORS for the public widget routes: only the site's own origins, and refusal rather than
 * silence. The `cors` package only omits headers and still runs the handler (docs/DESIGN.md#measured-facts);
 * here an unlisted origin gets 403 before anything is read or written.
 */
import type { Request, Response } from 'express';
import type { Site } from '../core/records.ts';
import { HttpError } from './errors.ts';
import { originMatches } from './origins.ts';

/** Whether a browser origin may call this site's public routes. Absent origin: not a browser. */
export function originAllowed(site: Site, origin: string | undefined): boolean {
  if (origin === undefined) return true;
  return originMatches(site.origins, origin);
}

/** Sets CORS headers for an allowed origin, or throws 403. */
export function applyCors(site: Site, req: Request, res: Response): void {
  const origin = req.headers.origin;
  if (!originAllowed(site, origin)) throw new HttpError(403, 'forbidden', 'this origin is not allowed for this site');
  if (origin === undefined) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
  if (req.method === 'OPTIONS') {
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
    res.setHeader('Access-Control-Max-Age', '600');
  }
}
