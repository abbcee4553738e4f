/**
 * Loopback servers for browser tests. `serveFixtures` serves small HTML pages (the host sites);
 * `faultProxy` stands in front of the real collector, records every request and injects
 * failures on demand ("503 twice, then pass through").
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Fixture {
  html: string;
  headers?: Record<string, string>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject);
  });

/** Serves `pages` (path → fixture) on an ephemeral loopback port. */
export async function serveFixtures(pages: Record<string, Fixture | ((origin: string) => Fixture)>) {
  let origin = '';
  const server = createServer((req, res) => {
    const entry = pages[new URL(req.url ?? '/', 'http://x').pathname];
    if (!entry) return void res.writeHead(404).end();
    const page = typeof entry === 'function' ? entry(origin) : entry;
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...page.headers })
      .end(page.html);
  });
  origin = await listen(server);
  return { origin, stop: () => close(server) };
}

export interface Recorded {
  method: string;
  path: string;
  body: any;
  status: number;
}
interface Fault {
  path: RegExp;
  status: number;
  times: number;
  retryAfter?: string;
}

/** A recording proxy to `target` that can answer with injected errors instead of forwarding. */
export async function faultProxy(target: string) {
  const requests: Recorded[] = [];
  const faults: Fault[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const path = req.url ?? '/';
    let parsed: unknown;
    try {
      parsed = body.length ? JSON.parse(body.toString('utf8')) : undefined;
    } catch {
      parsed = body.toString('utf8');
    }
    const record: Recorded = { method: req.method ?? 'GET', path, body: parsed, status: 0 };
    if (path.startsWith('/api/')) requests.push(record);
    const fault = req.method !== 'OPTIONS' ? faults.find((f) => f.times > 0 && f.path.test(path)) : undefined;
    if (fault) {
      fault.times--;
      record.status = fault.status;
      // CORS headers on the error too, or the page could not tell 503 from a network failure.
      res
        .writeHead(fault.status, {
          'content-type': 'application/json',
          'access-control-allow-origin': String(req.headers.origin ?? '*'),
          'access-control-expose-headers': 'Retry-After',
          ...(fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {}),
        })
        .end('{"errors":{"type":"unavailable","message":"injected by the test"}}');
      return;
    }
    const upstream = request(
      target + path,
      { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
      (up) => {
        record.status = up.statusCode ?? 0;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    upstream.end(body);
  };
  const server = createServer((req, res) => void handle(req, res).catch(() => res.writeHead(500).end()));
  const origin = await listen(server);
  return {
    origin,
    requests,
    /** Answers the next `times` requests whose path matches with `status`. */
    fail(path: RegExp, status: number, times: number, retryAfter?: string) {
      faults.push({ path, status, times, retryAfter });
    },
    clearFaults: () => {
      faults.length = 0;
    },
    stop: () => close(server),
  };
}
