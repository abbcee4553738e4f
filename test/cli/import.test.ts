/**
 * The import CLI as an operator runs it: a real process against a real collector. Files with
 * thousands of rows and a few bad ones import every valid record; FILE.errors.csv names each
 * bad record by its number; the summary is the last line on stdout.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type TestCollector } from '../helpers/collector.ts';

let c: TestCollector;
const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
beforeAll(async () => {
  c = await startCollector();
});
afterAll(async () => {
  await c.stop();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'server/cli.ts', 'import', ...args],
      { timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}
const run = (kind: string, file: string, url = c.url, extra: string[] = []) =>
  cli([kind, file, '--url', url, '--key', c.adminKey, ...extra]);
const summary = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);
const errorLines = (file: string) => readFileSync(`${file}.errors.csv`, 'utf8').split('\n').filter(Boolean);

describe('parley import users FILE.csv', () => {
  it('imports several thousand rows, skipping the bad ones and listing them in FILE.errors.csv', async () => {
    const header =
      'external_id,email,name,type,account.external_id,account.name,account.plan,account.mrr_cents,cf_persona,account.cf_region,tags';
    const rows: string[] = [];
    for (let n = 1; n <= 4000; n++) {
      let row = `csv-${n},csv${n}@file.test,"Doe, Jane ${n}",Member,acct-${n % 7},"Acme ""${n % 7}""",Team,${(n % 7) * 1000},developer,EU,beta|csv`;
      if (n === 17) row = `csv-17,not-an-email,Bad Email,Member,,,,,,,`;
      if (n === 1500) row = `,nobody@file.test,No Id,,,,,,,,`;
      if (n === 2222) row = `csv-2222,csv2222@file.test,Money,,acct-1,,,lots,,,`;
      if (n === 3000) row = `csv-3000,csv3000@file.test,"Two\nLines",,,,,,,,`;
      rows.push(row);
    }
    const file = join(dir, 'users.csv');
    writeFileSync(file, '\uFEFF' + header + '\r\n' + rows.join('\r\n') + '\r\n');

    const res = await run('users', file);
    expect(res.stderr).not.toMatch(/stopped/);
    expect(res.code).toBe(0);
    expect(summary(res.stdout)).toEqual({ imported: 3996, failed: 4, errors_file: `${file}.errors.csv` });

    const lines = errorLines(file);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('record_number,message,error_code,status_code');
    expect(lines[1]).toBe('17,email: must be a valid email address,invalid_record,');
    expect(lines[2]).toMatch(/^1500,external_id: .+,invalid_record,$/);
    expect(lines[3]).toBe('2222,"account.mrr_cents: Invalid input: expected number, received string",invalid_record,');
    expect(lines[4]).toBe('3000,name: must not contain control characters,invalid_record,');

    const listed = await c.admin('/users?q=file.test&per_page=1&includes=external_users,external_accounts');
    expect(listed.pagination.total_records).toBe(3996);
    const one = await c.admin('/users?q=csv4000@file.test&includes=external_users,external_accounts');
    expect(one.users[0].name).toBe('Doe, Jane 4000');
    expect(one.external_users[0]).toMatchObject({
      external_id: 'csv-4000',
      type: 'Member',
      custom_fields: { cf_persona: 'developer' },
      tags: ['beta', 'csv'],
    });
    expect(one.external_accounts[0]).toMatchObject({
      external_id: 'acct-3',
      name: 'Acme "3"',
      plan: 'Team',
      mrr_cents: 3000,
      custom_fields: { cf_region: 'EU' },
    });
    expect((await c.admin('/users?q=csv3001@file.test')).pagination.total_records).toBe(1);
  }, 120_000);

  it('reads a ;-delimited file with unquoted commas', async () => {
    const file = join(dir, 'semi.csv');
    writeFileSync(
      file,
      'external_id;email;name;account.external_id;account.monthly_rate\n' +
        Array.from({ length: 30 }, (_, i) => `semi-${i};semi${i}@semi.test;Roe, Richard ${i};semi-acct;12.50`).join(
          '\n',
        ),
    );
    const res = await run('users', file, c.url, ['--delimiter', ';']);
    expect(summary(res.stdout)).toMatchObject({ imported: 30, failed: 0 });
    expect(errorLines(file)).toEqual(['record_number,message,error_code,status_code']);
    const one = await c.admin('/users?q=semi7@&includes=external_accounts');
    expect(one.users[0].name).toBe('Roe, Richard 7');
    expect(one.external_accounts[0].mrr_cents).toBe(1250);
  }, 60_000);
});

describe('parley import with JSONL and accounts', () => {
  it('imports a JSONL file, naming its unreadable and invalid lines', async () => {
    const file = join(dir, 'users.jsonl');
    const lines = Array.from({ length: 25 }, (_, i) =>
      JSON.stringify({
        external_id: `jl-${i + 1}`,
        email: `jl${i + 1}@jsonl.test`,
        custom_fields: { seats: i },
        account: { external_id: 'jl-acct', ltv: 10 },
      }),
    );
    lines[4] = '{"external_id": "jl-5", oops';
    lines[9] = JSON.stringify({ external_id: 'jl-10', email: 'jl10@jsonl.test', tags: 'not-a-list' });
    writeFileSync(file, lines.slice(0, 12).join('\n') + '\n\n' + lines.slice(12).join('\n'));
    const res = await run('users', file);
    expect(summary(res.stdout)).toMatchObject({ imported: 23, failed: 2 });
    expect(errorLines(file).slice(1)).toEqual([
      '5,line is not valid JSON,unreadable_record,',
      '10,"tags: Invalid input: expected array, received string",invalid_record,',
    ]);
    expect((await c.admin('/users?q=jsonl.test')).pagination.total_records).toBe(23);
  }, 60_000);

  it('imports accounts from CSV', async () => {
    const file = join(dir, 'accounts.csv');
    writeFileSync(
      file,
      'external_id,name,plan,monthly_rate,ltv_cents,cf_region\nacc-1,One,Pro,99.5,100000,EU\nacc-2,Two,,not money,,\nacc-3,Three,Team,10,,US\n',
    );
    const res = await run('accounts', file);
    expect(summary(res.stdout)).toMatchObject({ imported: 2, failed: 1 });
    expect(errorLines(file)[1]).toMatch(/^2,monthly_rate: /);
    const accounts = (await c.admin('/external_accounts?sort=-mrr_cents&per_page=100')).external_accounts;
    expect(accounts.find((a: any) => a.external_id === 'acc-1')).toMatchObject({
      mrr_cents: 9950,
      ltv_cents: 100000,
      plan: 'Pro',
      custom_fields: { cf_region: 'EU' },
    });
  }, 60_000);
});

describe('parley import against a collector that pushes back', () => {
  let fake: Server;
  let calls: { users: { external_id: string }[] }[] = [];
  beforeAll(async () => {
    let n = 0;
    fake = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const parsed = JSON.parse(body);
        calls.push(parsed);
        n++;
        res.setHeader('content-type', 'application/json');
        if (n === 1) {
          res.statusCode = 503;
          res.setHeader('retry-after', '0');
          res.end('{"errors":{"type":"unavailable","message":"busy"}}');
          return;
        }
        if (n === 2) {
          res.statusCode = 429;
          res.setHeader('retry-after', '0');
          res.end('{"errors":{"type":"rate_limited","message":"slow down"}}');
          return;
        }
        if (n === 3) {
          res.statusCode = 422;
          res.end(
            JSON.stringify({
              errors: {
                type: 'invalid_request',
                message: '1 of 3 records are invalid',
                details: [{ index: 1, field: 'email', message: 'is taken' }],
              },
            }),
          );
          return;
        }
        res.end(JSON.stringify({ external_users: parsed.users, users: [], external_accounts: [], warnings: [] }));
      });
    });
    fake.listen(0, '127.0.0.1');
    await new Promise((r) => fake.once('listening', r));
  });
  afterAll(() => new Promise<void>((r) => fake.close(() => r())));

  it('retries 503 and 429, then drops the records a 422 names and resends the rest', async () => {
    const file = join(dir, 'pushback.csv');
    writeFileSync(file, 'external_id,email\np-1,p1@x.test\np-2,p2@x.test\np-3,p3@x.test\n');
    const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    const res = await run('users', file, url);
    expect(res.code).toBe(0);
    expect(summary(res.stdout)).toMatchObject({ imported: 2, failed: 1 });
    expect(calls.map((b) => b.users.map((u) => u.external_id).join(' '))).toEqual([
      'p-1 p-2 p-3',
      'p-1 p-2 p-3',
      'p-1 p-2 p-3',
      'p-1 p-3',
    ]);
    expect(errorLines(file)[1]).toBe('2,email: is taken,invalid_record,422');
  }, 60_000);
});

describe('parley import that cannot run', () => {
  it('exits non-zero with one line on a refused admin key', async () => {
    const file = join(dir, 'key.csv');
    writeFileSync(file, 'external_id,email\nk-1,k1@x.test\n');
    const res = await cli(['users', file, '--url', c.url, '--key', 'wrong-key']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/admin key was refused/);
  }, 60_000);

  it('exits 1 for an empty CSV, and 0 with nothing imported for a header alone', async () => {
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, '');
    const res = await run('users', empty);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/needs a header row/);
    const headerOnly = join(dir, 'header.csv');
    writeFileSync(headerOnly, 'external_id,email\n');
    const ok = await run('users', headerOnly);
    expect(ok.code).toBe(0);
    expect(summary(ok.stdout)).toMatchObject({ imported: 0, failed: 0 });
  }, 60_000);

  it('exits 2 with usage for a missing --url, and 1 for a file that does not exist', async () => {
    expect((await cli(['users', 'x.csv', '--key', 'k'])).code).toBe(2);
    const missing = await cli(['users', join(dir, 'nope.csv'), '--url', c.url, '--key', c.adminKey]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such file/);
  }, 60_000);
});
