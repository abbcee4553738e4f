/**
 * The import CLI's column mapping, header-less files and dry runs (README.md#operator-cli),
 * as an operator runs them: a real CLI process against a real collector.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type TestCollector } from '../helpers/collector.ts';

let c: TestCollector;
const dir = mkdtempSync(join(tmpdir(), 'parley-cli-map-'));
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
const run = (kind: string, file: string, extra: string[] = []) =>
  cli([kind, file, '--url', c.url, '--key', c.adminKey, ...extra]);
const summary = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);
const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const externalUser = async (id: string) =>
  (await c.admin('/external_users?per_page=100')).external_users.find(
    (e: { external_id: string }) => e.external_id === id,
  );

describe('parley import --map', () => {
  it('maps headers to fields, skips a column, and stores formula-like cells as the text they are', async () => {
    const file = write(
      'mapped.csv',
      [
        'Customer ID,E-mail,Full Name,Customer Type,Internal Notes,a=b',
        'm-1,m1@map.test,=HYPERLINK("http://evil"),Enterprise,do not import,-5',
        'm-2,m2@map.test,@home,+SMB,secret,ok',
      ].join('\n'),
    );
    const res = await run('users', file, [
      '--map',
      'Customer ID=external_id',
      '--map',
      'E-mail=email',
      '--map',
      'Full Name=name',
      '--map',
      'Customer Type=cf_customer_type',
      '--map',
      'Internal Notes=',
      '--map',
      'a=b=cf_ab',
    ]);
    expect(res.stderr).not.toMatch(/stopped/);
    expect([res.code, summary(res.stdout)]).toEqual([0, { imported: 2, failed: 0, errors_file: `${file}.errors.csv` }]);
    expect(await externalUser('m-1')).toMatchObject({
      email: 'm1@map.test',
      name: '=HYPERLINK("http://evil")',
      custom_fields: { cf_customer_type: 'Enterprise', cf_ab: '-5' },
    });
    const m2 = await externalUser('m-2');
    expect(m2).toMatchObject({ name: '@home', custom_fields: { cf_customer_type: '+SMB', cf_ab: 'ok' } });
    expect(JSON.stringify(m2)).not.toMatch(/secret/);
  }, 60_000);

  it('reads a header-less, semicolon-delimited file by column number, ignoring unmapped columns', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `nh-${i};nh${i}@map.test;Type ${i % 3};nh-co-${i % 5};ignored`);
    rows[10] = 'nh-10;not-an-email;x;y;z';
    const file = write('noheader.csv', rows.join('\r\n') + '\r\n');
    const res = await run('users', file, [
      '--no-header',
      '--delimiter',
      ';',
      '--map',
      '1=external_id',
      '--map',
      '2=email',
      '--map',
      '3=cf_customer_type',
      '--map',
      '4=account.external_id',
    ]);
    expect([res.code, summary(res.stdout)]).toMatchObject([0, { imported: 49, failed: 1 }]);
    // Record numbers count data rows: without a header, the first row is record 1.
    expect(readFileSync(`${file}.errors.csv`, 'utf8').split('\n')[1]).toBe(
      '11,email: must be a valid email address,invalid_record,',
    );
    expect(await externalUser('nh-0')).toMatchObject({
      email: 'nh0@map.test',
      custom_fields: { cf_customer_type: 'Type 0' },
      links: { external_account: 'nh-co-0' },
    });
    expect(JSON.stringify(await externalUser('nh-1'))).not.toMatch(/ignored/);
  }, 60_000);

  it.each([
    ['a map without "="', ['--map', 'Email'], /write it as/],
    ['a map to something that is not a field', ['--map', 'Email=e mail'], /not a field name/],
    ['a column mapped twice', ['--map', 'Email=email', '--map', 'Email=name'], /mapped twice/],
    ['a named column without a header', ['--no-header', '--map', 'Email=email'], /by their number/],
  ])(
    'exits 2 with usage for %s, before reading the file',
    async (_name, flags, message) => {
      const file = write('usage.csv', 'Id,Email\nu-1,u1@map.test\n');
      const res = await run('users', file, flags);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(message);
      expect(res.stdout).toBe('');
    },
    60_000,
  );

  it('exits 2 for --map or --no-header on a JSONL file', async () => {
    const file = write('records.jsonl', '{"external_id":"j-1","email":"j1@map.test"}\n');
    for (const flags of [['--map', 'a=email'], ['--no-header']]) {
      const res = await run('users', file, flags);
      expect([res.code, res.stderr]).toEqual([2, expect.stringMatching(/CSV files only/)]);
    }
  }, 60_000);

  it('stops before sending anything when a map names no column, or two columns fill one field', async () => {
    const before = await c.admin('/stats');
    const file = write('fit.csv', 'Id,Email,Mail\nf-1,f1@map.test,f1@other.test\n');
    const missing = await run('users', file, ['--map', 'Id=external_id', '--map', 'E-mail=email']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/"E-mail", which is not in the header/)]);
    const twice = await run('users', file, ['--map', 'Id=external_id', '--map', 'Email=email', '--map', 'Mail=email']);
    expect([twice.code, twice.stderr]).toEqual([
      1,
      expect.stringMatching(/"Email" and "Mail" both fill the field "email"/),
    ]);
    const beyond = await run('users', file, ['--no-header', '--map', '4=email']);
    expect([beyond.code, beyond.stderr]).toEqual([1, expect.stringMatching(/column 4, but the first row has 3/)]);
    expect(await c.admin('/stats')).toEqual(before);
  }, 60_000);
});

describe('parley import --dry-run', () => {
  it('validates everything through the dry-run route, prints what would change, and writes nothing', async () => {
    await c.send('POST', '/external_users/import', {
      users: [
        { external_id: 'dr-1', email: 'dr1@map.test', name: 'Same' },
        { external_id: 'dr-2', email: 'dr2@map.test', name: 'Old' },
      ],
    });
    const rows = ['external_id,email,name,account.external_id', 'dr-1,dr1@map.test,Same,', 'dr-2,dr2@map.test,New,'];
    for (let i = 3; i <= 1500; i++) rows.push(`dr-${i},dr${i}@map.test,Person ${i},dr-co-${i % 4}`);
    rows[1200] = 'dr-bad,not-an-email,Bad,';
    const file = write('dry.csv', rows.join('\n') + '\n');
    const before = await c.admin('/stats');
    const res = await run('users', file, ['--dry-run']);
    expect(res.code).toBe(0);
    expect(summary(res.stdout)).toEqual({
      dry_run: true,
      valid: 1499,
      failed: 1,
      errors_file: `${file}.errors.csv`,
      // Two chunks of at most 1000; every new account is met in both, and counted in each.
      external_users: { created: 1497, updated: 1, unchanged: 1 },
      users: { created: 1497, updated: 1, unchanged: 1 },
      external_accounts: { created: 8, updated: 0, unchanged: 0 },
    });
    expect(res.stderr).toMatch(
      /dry run, nothing was written: would create 1497 external_users, 1497 users, 8 external_accounts; update 1 external_users, 1 users, 0 external_accounts/,
    );
    expect(readFileSync(`${file}.errors.csv`, 'utf8').split('\n')[1]).toMatch(/^1200,email: /);
    expect(await c.admin('/stats')).toEqual(before);
    expect((await externalUser('dr-2')).name).toBe('Old');
  }, 120_000);
});
