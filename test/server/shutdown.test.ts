/**
 * Stopping the collector process with SIGTERM (README "Stopping"): it refuses new work, closes
 * idle keep-alive connections at once, finishes what is in flight, applies what it
 * acknowledged, writes its final checkpoint and exits 0 — however busy its clients keep it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processScratch, spawnCollector } from '../helpers/process.ts';

const ADMIN = 'shutdown-admin-key-00001';
const { tempDir, procs } = processScratch('parley-stop-');

function start(dataDir?: string) {
  const dir = dataDir ?? tempDir();
  const p = spawnCollector({
    PARLEY_DATA_DIR: dir,
    PARLEY_DEMO_ADMIN_KEY: ADMIN,
    PARLEY_CHECKPOINT_MS: '600000',
    PARLEY_RATE_LIMIT: 'off',
    PARLEY_LOG_LEVEL: 'info',
  });
  procs.push(p.child);
  return { ...p, dir };
}

/** Milliseconds from now until the process exits, and its exit code. */
async function timeExit(p: ReturnType<typeof start>) {
  const t0 = performance.now();
  const code = await p.exited;
  return { code, ms: performance.now() - t0 };
}

/** Bytes left in the intake log: 0 once a final checkpoint has covered everything. */
const logBytes = (dir: string) =>
  readdirSync(join(dir, 'intake')).reduce((n, f) => n + readFileSync(join(dir, 'intake', f)).length, 0);

async function stats(url: string) {
  const res = await fetch(url + '/api/v2/admin/stats', { headers: { authorization: `Bearer ${ADMIN}` } });
  return res.json();
}

const bulk = (ids: string[]) => JSON.stringify({ identities: ids.map((id) => ({ id, email: `${id}@stop.test` })) });

/** One bulk_identify over a given keep-alive agent: status and Connection header. */
function postBulk(url: string, agent: Agent, body: string) {
  return new Promise<{ status: number; connection?: string }>((resolve, reject) => {
    const req = request(
      url + '/api/v2/admin/bulk_identify',
      {
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw connection to the collector, with everything it receives. */
async function rawSocket(url: string) {
  const { port } = new URL(url);
  const socket: Socket = connect(Number(port), '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (d) => (text += d));
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  socket.on('error', () => undefined);
  return { socket, closed, received: () => text };
}

/** Resolves once the collector no longer accepts connections (its drain has begun). */
async function untilRefused(url: string) {
  const { port } = new URL(url);
  for (;;) {
    const refused = await new Promise<boolean>((r) => {
      const s = connect(Number(port), '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(false)));
      s.once('error', () => r(true));
    });
    if (refused) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

const waitFor = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
};

describe('SIGTERM', () => {
  it('stops a collector that a keep-alive client keeps busy, losing nothing it acknowledged', async () => {
    const p = start();
    const url = await p.ready;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const acked: string[] = [];
    let killed = false;
    const afterKill: { status: number; connection?: string }[] = [];
    // Back to back on one keep-alive connection until the collector stops answering.
    const hammer = (async () => {
      for (let b = 0; ; b++) {
        const ids = Array.from({ length: 50 }, (_, i) => `k${b}-${i}`);
        let res;
        try {
          res = await postBulk(url, agent, bulk(ids));
        } catch {
          return; // refused or reset: the collector is gone
        }
        if (res.status === 202) acked.push(...ids);
        if (killed) afterKill.push(res);
      }
    })();
    await waitFor(() => acked.length >= 5000);
    killed = true;
    p.child.kill('SIGTERM');
    const { code, ms } = await timeExit(p);
    await hammer;
    agent.destroy();

    expect(code).toBe(0);
    expect(ms).toBeLessThan(5000);
    // Only what was in flight when the signal landed is acknowledged after it (it used to be
    // thousands of identities, for 10 s); anything later is refused with 503.
    expect(afterKill.filter((r) => r.status === 202).length).toBeLessThanOrEqual(2);
    for (const r of afterKill.filter((r) => r.status !== 202)) expect(r).toEqual({ status: 503, connection: 'close' });
    expect(p.output().out).toMatch(/final checkpoint written/);
    expect(logBytes(p.dir)).toBe(0);

    const again = start(p.dir);
    const s = await stats(await again.ready);
    expect(s.pending_identities).toBe(acked.length);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 60_000);

  it('refuses a request arriving on an open connection with 503 + Connection: close, and finishes one in flight', async () => {
    const p = start();
    const url = await p.ready;
    // `late` has begun a request (headers half sent) when the signal lands; `inFlight` has sent
    // its headers and half its body. Neither connection is idle, so neither is closed at once.
    const late = await rawSocket(url);
    late.socket.write('POST /api/v2/admin/bulk_identify HTTP/1.1\r\nHost: x\r\n');
    const body = bulk(['in-flight-1']);
    const inFlight = await rawSocket(url);
    inFlight.socket.write(
      'POST /api/v2/admin/bulk_identify HTTP/1.1\r\nHost: x\r\n' +
        `Authorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n` +
        body.slice(0, 10),
    );
    await new Promise((r) => setTimeout(r, 200));
    p.child.kill('SIGTERM');
    await untilRefused(url);

    inFlight.socket.write(body.slice(10));
    await inFlight.closed;
    expect(inFlight.received()).toMatch(/^HTTP\/1\.1 202 /);
    expect(inFlight.received()).toMatch(/\r\nConnection: close\r\n/i);

    const small = bulk(['too-late-1']);
    late.socket.write(
      `Authorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: ${small.length}\r\n\r\n${small}`,
    );
    await late.closed;
    const [head, json] = late.received().split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head).toMatch(/\r\nConnection: close(\r\n|$)/i);
    expect(head).toMatch(/\r\nRetry-After: \d+(\r\n|$)/i);
    expect(JSON.parse(json).errors.type).toBe('unavailable');

    expect((await timeExit(p)).code).toBe(0);
    const again = start(p.dir);
    const s = await stats(await again.ready);
    expect(s.pending_identities).toBe(1); // in-flight-1, and not too-late-1
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 60_000);

  it('does not wait for keep-alive connections that are idle or become idle', async () => {
    const p = start();
    const url = await p.ready;
    // One connection idle at the signal, one whose request finishes during the stop; the
    // client keeps both open, as keep-alive clients do.
    const idle = await rawSocket(url);
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => idle.received().includes('"status":"ok"'));
    const body = bulk(['becomes-idle']);
    const busy = await rawSocket(url);
    busy.socket.write(
      'POST /api/v2/admin/bulk_identify HTTP/1.1\r\nHost: x\r\n' +
        `Authorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n` +
        body.slice(0, 10),
    );
    await new Promise((r) => setTimeout(r, 200));
    p.child.kill('SIGTERM');
    const exit = timeExit(p);
    await untilRefused(url);
    busy.socket.write(body.slice(10));
    await waitFor(() => busy.received().includes('"status":"queued"'));
    const { code, ms } = await exit;
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2500); // the keep-alive timeout is 5 s
    await Promise.all([idle.closed, busy.closed]);
  }, 30_000);
});
