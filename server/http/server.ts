/**
 * The collector's HTTP server around its request handler: time limits, and envelope answers
 * for what Node's parser refuses (client-errors.ts). main.ts and the test helpers both build
 * their server here, so the tests run what production runs.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { answerClientError } from './client-errors.ts';

export interface HttpServerOptions {
  /** Milliseconds a client may take to send a whole request. @default 30000 */
  requestTimeoutMs?: number;
  /** Milliseconds a client may take to send the request headers. @default 10000 */
  headersTimeoutMs?: number;
  /** Milliseconds an idle keep-alive connection stays open. @default 5000 */
  keepAliveTimeoutMs?: number;
}

export interface HttpServer {
  server: Server;
  /** Listens; resolves with the port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
}

/** Builds the server; it does not listen until `listen`. */
export function createHttpServer(handler: RequestListener, o: HttpServerOptions = {}): HttpServer {
  /** Answers started and not yet finished, and the connection each is on. */
  const inFlight = new Map<ServerResponse, Socket>();

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    inFlight.set(res, req.socket);
    res.on('close', () => inFlight.delete(res));
    handler(req, res);
  };

  // Slow clients (slowloris) cannot hold sockets: whole request and headers are time-limited,
  // and checked every second rather than Node's default 30 s.
  const server = createServer(
    {
      requestTimeout: o.requestTimeoutMs ?? 30_000,
      headersTimeout: o.headersTimeoutMs ?? 10_000,
      keepAliveTimeout: o.keepAliveTimeoutMs ?? 5000,
      connectionsCheckingInterval: 1000,
    },
    onRequest,
  );
  server.on('clientError', (err, socket: Socket) => {
    let responding = false;
    for (const [res, s] of inFlight) if (s === socket && res.headersSent) responding = true;
    answerClientError(err, socket, responding);
  });

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
  };
}
