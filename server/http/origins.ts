/**
 * Allowed origins of a site: exact origins (`https://app.acme.com`) and one-label wildcards
 * (`https://*.acme.com`). Both sides are parsed with URL and compared part by part — scheme,
 * port, host labels — never by string suffix, so `https://evilacme.com` or
 * `https://acme.com.evil.test` cannot pass for `https://*.acme.com`. `Origin: null` (sandboxed
 * frames, file: pages, some redirects) names no one and is always refused.
 */

/** Normalizes an allowed-origin entry as `sites create --origin` takes it; throws if invalid. */
export function normalizeOriginPattern(pattern: string): string {
  const wildcard = /^(https?):\/\/\*\.(.+)$/i.exec(pattern);
  const url = new URL(wildcard ? `${wildcard[1]}://${wildcard[2]}` : pattern);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`origin must be http(s): ${pattern}`);
  if (url.username || url.password) throw new Error(`an origin has no user or password: ${pattern}`);
  if (!wildcard) return url.origin;
  // A wildcard over a bare TLD or an IP address would allow the whole internet, or nothing.
  if (!url.hostname.includes('.') || /^[\d.]+$/.test(url.hostname) || url.hostname.startsWith('[')) {
    throw new Error(`a wildcard origin needs a domain of at least two labels: ${pattern}`);
  }
  return `${url.protocol}//*.${url.host}`;
}

function parse(origin: string): URL | null {
  try {
    const url = new URL(origin);
    // A browser's Origin is exactly scheme://host[:port]; anything else is not one.
    return url.origin === origin && (url.protocol === 'http:' || url.protocol === 'https:') ? url : null;
  } catch {
    return null;
  }
}

/** Whether the browser origin `origin` is on the list of allowed patterns. */
export function originMatches(patterns: readonly string[], origin: string): boolean {
  if (origin === 'null') return false;
  const url = parse(origin);
  if (!url) return false;
  for (const pattern of patterns) {
    const star = pattern.indexOf('://*.');
    if (star < 0) {
      if (pattern === url.origin) return true;
      continue;
    }
    const base = new URL(pattern.slice(0, star + 3) + pattern.slice(star + 5));
    if (base.protocol !== url.protocol || base.port !== url.port) continue;
    const labels = url.hostname.split('.');
    // Exactly one label in place of the star, and the rest equal label for label.
    if (
      labels.length === base.hostname.split('.').length + 1 &&
      labels.slice(1).join('.') === base.hostname &&
      labels[0] !== ''
    )
      return true;
  }
  return false;
}
