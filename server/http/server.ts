/**
 * The collector's HTTP server around its request handler: time limits, envelope answers for
 * what Node's parser refuses (client-errors.ts), and a drain for shutdown. main.ts and the test
 * helpers both build their server here, so the tests run what production runs.
 *
 * Draining (README "Stopping"): the listener closes, idle keep-alive connections close at once,
 * requests in flight finish and their answers carry `Connection: close`, and a request that
 * arrives on a connection still open gets 503 + `Connection: close` — so a client sending back
 * to back on one keep-alive connection cannot keep a stopping collector busy.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { answerClientError } from './client-errors.ts';
import { HttpError, writeError } from './errors.ts';
import { BASE_HEADERS } from './security.ts';

/** Time limits; their defaults are config.ts's (PARLEY_REQUEST_TIMEOUT_MS, PARLEY_HEADERS_TIMEOUT_MS). */
export interface HttpServerOptions {
  /** Milliseconds a client may take to send a whole request. */
  requestTimeoutMs: number;
  /** Milliseconds a client may take to send the request headers. */
  headersTimeoutMs: number;
}

/** Milliseconds an idle keep-alive connection stays open (a stop closes idle ones at once). */
const KEEP_ALIVE_TIMEOUT_MS = 5000;

export interface HttpServer {
  server: Server;
  /** Listens; resolves with the port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /**
   * Stops taking requests and resolves once every connection is closed. Requests in flight get
   * `graceMs` to finish; connections still open then are cut.
   */
  drain(graceMs: number): Promise<void>;
}

/** Builds the server; it does not listen until `listen`. */
export function createHttpServer(handler: RequestListener, o: HttpServerOptions): HttpServer {
  let draining = false;
  /** Answers started and not yet finished, and the connection each is on. */
  const inFlight = new Map<ServerResponse, Socket>();

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (draining) return refuse(res);
    inFlight.set(res, req.socket);
    res.on('close', () => inFlight.delete(res));
    handler(req, res);
  };

  // Slow clients (slowloris) cannot hold sockets: whole request and headers are time-limited,
  // and checked every second rather than Node's default 30 s.
  const server = createServer(
    {
      requestTimeout: o.requestTimeoutMs,
      headersTimeout: o.headersTimeoutMs,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: 1000,
    },
    onRequest,
  );
  server.on('clientError', (err, socket: Socket) => {
    let responding = false;
    for (const [res, s] of inFlight) if (s === socket && res.headersSent) responding = true;
    answerClientError(err, socket, responding);
  });

  /** Makes an answer in flight the last one on its connection. */
  const lastOnItsConnection = (res: ServerResponse) => {
    // Before the headers go out, saying so lets Node close the connection after this answer.
    if (!res.headersSent) res.setHeader('Connection', 'close');
    // Either way, once it is sent the connection is idle, and idle connections are closed now.
    res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
  };

  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      }),
    async drain(graceMs) {
      draining = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      for (const res of inFlight.keys()) lastOnItsConnection(res);
      const cut = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(cut);
    },
  };
}

/** A request that arrived while draining: 503, and this connection takes no more. */
function refuse(res: ServerResponse) {
  for (const name in BASE_HEADERS) res.setHeader(name, BASE_HEADERS[name]);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Connection', 'close');
  writeError(res, new HttpError(503, 'unavailable', 'the collector is shutting down; retry shortly', [], 1));
}
