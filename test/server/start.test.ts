/**
 * `npm start` as an operator runs it (README "The two commands"): a SIGTERM to npm's own pid
 * (what a process manager or a container runtime sends) must reach the collector, which then
 * stops cleanly: port released, data directory unlocked, final checkpoint written, exit 0.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'parley-start-'));
const lockFile = join(dir, 'LOCK');
/** Whatever holds the lock when the test ends is killed (a collector that outlived npm). */
afterAll(() => {
  if (existsSync(lockFile)) {
    try {
      process.kill(Number(readFileSync(lockFile, 'utf8')), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const refused = (port: number) =>
  new Promise<boolean>((r) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), r(false)));
    s.once('error', () => r(true));
  });

it('stops the collector cleanly when npm start gets SIGTERM', async () => {
  const npm = spawn('npm', ['start'], {
    env: {
      ...process.env,
      PORT: '0',
      PARLEY_DATA_DIR: dir,
      PARLEY_DEMO_ADMIN_KEY: 'start-test-admin-key-0001',
      PARLEY_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  npm.stdout!.on('data', (d) => (out += d));
  npm.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => npm.on('exit', (code) => r(code)));
  while (!/listening on http:\/\/localhost:(\d+)/.test(out)) {
    if (npm.exitCode !== null) throw new Error(`npm start exited: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(/listening on http:\/\/localhost:(\d+)/.exec(out)![1]);
  const collectorPid = Number(readFileSync(lockFile, 'utf8'));
  expect(await refused(port)).toBe(false);
  const res = await fetch(`http://127.0.0.1:${port}/api/v2/admin/bulk_identify`, {
    method: 'POST',
    headers: { authorization: 'Bearer start-test-admin-key-0001', 'content-type': 'application/json' },
    body: JSON.stringify({ identities: [{ id: 'started', email: 'started@start.test' }] }),
  });
  expect(res.status).toBe(202);

  npm.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
  // Give a collector that npm left behind a moment to show itself.
  await new Promise((r) => setTimeout(r, 500));
  expect(code).toBe(0);
  expect(alive(collectorPid)).toBe(false);
  expect(await refused(port)).toBe(true);
  expect(existsSync(lockFile)).toBe(false);
  expect(out).toMatch(/final checkpoint written/);
  const logBytes = readdirSync(join(dir, 'intake')).reduce(
    (n, f) => n + readFileSync(join(dir, 'intake', f)).length,
    0,
  );
  expect(logBytes).toBe(0);
}, 120_000);
