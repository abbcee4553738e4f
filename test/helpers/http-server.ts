/**
 * The production HTTP server (server/http/server.ts) for the tests' collectors, with the time
 * limits production defaults to (config.ts) unless a test overrides them, on an ephemeral
 * loopback port.
 */
import type { RequestListener } from 'node:http';
import { loadConfig } from '../../server/config.ts';
import { createHttpServer, type HttpServerOptions } from '../../server/http/server.ts';

export async function listenForTests(handler: RequestListener, overrides: Partial<HttpServerOptions> = {}) {
  const config = loadConfig({});
  const http = createHttpServer(handler, {
    requestTimeoutMs: config.PARLEY_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: config.PARLEY_HEADERS_TIMEOUT_MS,
    ...overrides,
  });
  const port = await http.listen(0, '127.0.0.1');
  return { server: http.server, url: `http://127.0.0.1:${port}` };
}
