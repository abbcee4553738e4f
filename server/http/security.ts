/**
 * Security headers (issue 5). Every response: no MIME sniffing, no referrer leaking page URLs,
 * no framing. API responses are never cached. The HTML pages get a Content-Security-Policy: the
 * admin console a strict one (its own scripts only, no inline script); the demo page only the
 * parts that do not forbid what it demonstrates — an inline embed snippet, exactly as a
 * customer writes it.
 */
import type { RequestHandler } from 'express';

const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const DEMO_CSP = ["object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'"].join('; ');

/**
 * What every response carries. Exported for the answers written outside Express (refusals of
 * Node's HTTP parser, the 503s of a collector shutting down), so they carry them too.
 */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** Headers for every response, before any route runs (so errors carry them too). */
export const securityHeaders: RequestHandler = (req, res, next) => {
  for (const name in BASE_HEADERS) res.setHeader(name, BASE_HEADERS[name]);
  if (req.path.startsWith('/api/')) res.setHeader('Cache-Control', 'no-store');
  else if (req.path.startsWith('/admin')) res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  else if (req.path.startsWith('/demo')) res.setHeader('Content-Security-Policy', DEMO_CSP);
  else if (['/widget.js', '/widget.debug.js', '/panel.js'].includes(req.path)) {
    // Loaded by customers' pages, including ones that require CORP (COEP: require-corp).
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  }
  next();
};
