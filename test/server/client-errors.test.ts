/**
 * Requests Node's HTTP parser refuses before Express sees them (docs/API.md#http-api): they get
 * the same JSON error envelope as every other error, then the connection is closed. Sent over
 * raw sockets, since no HTTP client will write them, to the server the tests' collectors use.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryApp } from '../helpers/app.ts';

let app: Awaited<ReturnType<typeof memoryApp>>;
beforeAll(async () => {
  app = await memoryApp(Date.now, { headersTimeoutMs: 1000 });
});
afterAll(async () => {
  await app.stop();
});

interface Raw {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the server closed the connection (the test never does). */
  closed: boolean;
}

/** Writes `data` on a fresh connection and reads until the server closes it (or 5 s pass). */
function raw(url: string, data: string): Promise<Raw> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(data));
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n'), closed });
    };
    const timer = setTimeout(() => done(false), 5000);
    socket.setEncoding('latin1');
    socket.on('data', (d) => (text += d));
    socket.on('end', () => done(true));
    socket.on('error', reject);
  });
}

describe("requests Node's parser refuses", () => {
  it.each([
    {
      name: 'Transfer-Encoding together with Content-Length',
      data: 'POST /api/v2/admin/bulk_identify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n',
      status: 400,
      type: 'invalid_request',
      field: '(request)',
    },
    {
      name: 'a 20 KB header',
      data: `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      status: 431,
      type: 'payload_too_large',
      field: '(headers)',
    },
    {
      name: 'a garbage request line',
      data: 'GARBAGE\r\n\r\n',
      status: 400,
      type: 'invalid_request',
      field: '(request)',
    },
    {
      name: 'a bad byte in a header name',
      data: 'GET /healthz HTTP/1.1\r\nHo\u0001st: x\r\n\r\n',
      status: 400,
      type: 'invalid_request',
      field: '(request)',
    },
    {
      name: 'headers that never end (timeout)',
      data: 'GET /healthz HTTP/1.1\r\nHost: x\r\n',
      status: 408,
      type: 'invalid_request',
      field: '(request)',
    },
  ])('answers $name with $status and the envelope, then closes', async ({ data, status, type, field }) => {
    const res = await raw(app.url, data);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['connection']).toBe('close');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
    const json = JSON.parse(res.body);
    expect(json.errors.type).toBe(type);
    expect(json.errors.message).toEqual(expect.any(String));
    expect(json.errors.details).toEqual([{ field, message: expect.any(String) }]);
    expect(res.body).not.toMatch(/\bat .*\.(ts|js):\d+|node_modules|HPE_/);
    expect(res.closed).toBe(true);
  });

  it('still answers well-formed requests on the same server', async () => {
    const res = await raw(app.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).status).toBe('ok');
  });
});
