/**
 * The pure parts of the console's Import page and routes: matching headers to fields, reading a
 * file in slices, cutting records into chunks, and a run's handling of the collector's answers
 * (422s set aside and the rest resent, Retry-After honoured, dry-run counts summed, the errors
 * file neutralised). The collector is stood in for by a function; the browser test drives the real one.
 */
import { describe, expect, it } from 'vitest';
import { ApiError, type Post } from '../../server/console/api.ts';
import { autoMatch, fieldChoices, mappingProblems } from '../../server/console/import/fields.ts';
import { readRecords, type NumberedRecord } from '../../server/console/import/read.ts';
import { Chunker, ImportRun } from '../../server/console/import/run.ts';
import { lookupRoute, parseRoute, routeHash } from '../../server/console/routes.ts';
import type { CustomField } from '../../server/console/types.ts';

const custom: CustomField[] = [
  { key: 'cf_customer_type', object: 'user', type: 'text' },
  { key: 'cf_region', object: 'account', type: 'select', options: ['EU', 'US'] },
];

describe('autoMatch', () => {
  const users = fieldChoices('users', custom);
  it('matches field names, loose spellings, common CRM names and defined custom fields by name', () => {
    const headers = [
      'external_id',
      'E-mail',
      'Full Name',
      'Company',
      'Account ID',
      'MRR',
      'Customer Type',
      'account.cf_region',
      'cf_not_defined',
      'Notes',
    ];
    expect(autoMatch(headers, 'users', users)).toEqual([
      'external_id',
      'email',
      'name',
      'account.name',
      'account.external_id',
      'account.monthly_rate',
      'cf_customer_type',
      'account.cf_region',
      'cf_not_defined',
      '',
    ]);
  });

  it('fills each field once: a later column naming the same field is skipped', () => {
    expect(autoMatch(['email', 'Email Address', 'ID'], 'users', users)).toEqual(['email', '', 'external_id']);
  });

  it('matches an accounts file against account fields (custom ones without the account. prefix)', () => {
    const accounts = fieldChoices('accounts', custom);
    expect(autoMatch(['Account ID', 'Company', 'Region', 'email'], 'accounts', accounts)).toEqual([
      'external_id',
      'name',
      'cf_region',
      '',
    ]);
  });

  it('matches nothing without a header row', () => {
    expect(autoMatch(null, 'users', users)).toEqual([]);
  });

  it('names a field filled twice and the required fields missing', () => {
    expect(mappingProblems(['email', '', 'email'], 'users')).toEqual([
      'columns 1 and 3 both fill email: map or skip one',
      'no column fills external_id, which every record needs',
    ]);
    expect(mappingProblems(['external_id', 'email'], 'users')).toEqual([]);
  });
});

async function all(gen: AsyncGenerator<{ records: NumberedRecord[] }>) {
  const batches: NumberedRecord[][] = [];
  for await (const b of gen) batches.push(b.records);
  return batches;
}

describe('readRecords', () => {
  it('parses a CSV in small slices, a quoted field and a CRLF cut across slices, numbering records from 1', async () => {
    const text = 'id;mail;note\r\n1;a@x.test;"semi; colon\r\nand a line"\r\n2;b@x.test;=SUM(A1)\r\n';
    const file = new Blob([text]);
    const paths = [['external_id'], ['email'], null];
    const batches = await all(
      readRecords(file, 'csv', { layout: { delimiter: ';', header: true }, paths, sliceBytes: 7 }),
    );
    expect(batches.length).toBeGreaterThan(5); // really read slice by slice
    expect(batches.flat()).toEqual([
      { number: 1, record: { external_id: '1', email: 'a@x.test' } },
      { number: 2, record: { external_id: '2', email: 'b@x.test' } },
    ]);
  });

  it('reads the first row as data without a header, and names a row wider than the first', async () => {
    const file = new Blob(['1;a@x.test\n2;b@x.test;extra\n']);
    const records = (
      await all(
        readRecords(file, 'csv', { layout: { delimiter: ';', header: false }, paths: [['external_id'], ['email']] }),
      )
    ).flat();
    expect(records).toEqual([
      { number: 1, record: { external_id: '1', email: 'a@x.test' } },
      { number: 2, error: 'row has 3 fields but the first row has 2' },
    ]);
  });

  it('decodes UTF-8 split across slices and reads JSONL lines, skipping blank ones', async () => {
    const file = new Blob(['{"name":"Zoë"}\n\n[1]\n{"name":"Åsa"}']);
    const records = (await all(readRecords(file, 'jsonl', { sliceBytes: 3 }))).flat();
    expect(records).toEqual([
      { number: 1, record: { name: 'Zoë' } },
      { number: 2, error: 'line is not a JSON object' },
      { number: 3, record: { name: 'Åsa' } },
    ]);
  });
});

describe('Chunker', () => {
  it('cuts by count and by size, never leaving a record out', () => {
    const c = new Chunker<number>(3, 10);
    const out: number[][] = [];
    for (const [n, size] of [
      [1, 2],
      [2, 2],
      [3, 2],
      [4, 6],
      [5, 6],
      [6, 1],
    ]) {
      const full = c.add(n, size);
      if (full) out.push(full);
    }
    const rest = c.end();
    if (rest) out.push(rest);
    // [1,2,3] by count; [4] because 4+5 would pass 10 bytes; [5,6] left at the end.
    expect(out).toEqual([[1, 2, 3], [4], [5, 6]]);
    expect(c.end()).toBeNull();
  });
});

/** A stand-in collector: answers from a script, records what it was sent. */
function fakePost(answer: (path: string, body: any, call: number) => unknown) {
  const calls: { path: string; body: any }[] = [];
  const post: Post = async <T>(path: string, body: unknown) => {
    calls.push({ path, body });
    const a = answer(path, body, calls.length);
    if (a instanceof Error) throw a;
    return a as T;
  };
  return { post, calls };
}

const recs = (n: number, extra: Record<string, unknown> = {}): NumberedRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    number: i + 1,
    record: { external_id: `e${i + 1}`, email: `p${i + 1}@x.test`, ...extra },
  }));

describe('ImportRun', () => {
  it('sets aside the records a 422 names and resends the rest of the chunk', async () => {
    const { post, calls } = fakePost((_, body, call) =>
      call === 1
        ? new ApiError(422, 'invalid_request', 'invalid import', [
            { index: 1, field: 'email', message: 'must be a valid email address' },
            { index: 1, field: 'name', message: 'too long' },
          ])
        : { external_users: body.users, warnings: [] },
    );
    const run = new ImportRun({ kind: 'users', post, dryRun: false });
    await run.add([...recs(3), { number: 4, error: 'row has 3 fields but the header has 2' }]);
    await run.finish();
    expect(calls.map((c) => [c.path, c.body.users.map((u: any) => u.external_id)])).toEqual([
      ['/external_users/import', ['e1', 'e2', 'e3']],
      ['/external_users/import', ['e1', 'e3']],
    ]);
    expect(run.progress).toEqual({ read: 4, done: 2, failed: 2 });
    expect(run.errorsCsv()).toBe(
      'record_number,message,error_code,status_code\n' +
        '2,email: must be a valid email address; name: too long,invalid_record,422\n' +
        '4,row has 3 fields but the header has 2,unreadable_record,\n',
    );
  });

  it('validates through the dry run route, summing the counts of every chunk', async () => {
    const { post, calls } = fakePost(() => ({
      dry_run: true,
      external_users: { created: 2, updated: 1, unchanged: 0 },
      external_accounts: { created: 1, updated: 0, unchanged: 0 },
      warnings: [],
    }));
    const run = new ImportRun({ kind: 'users', post, dryRun: true });
    await run.add(recs(1500));
    await run.finish();
    expect(calls.map((c) => [c.path, c.body.users.length])).toEqual([
      ['/external_users/import?dry_run=true', 1000],
      ['/external_users/import?dry_run=true', 500],
    ]);
    expect(run.tallies).toEqual({
      external_users: { created: 4, updated: 2, unchanged: 0 },
      external_accounts: { created: 2, updated: 0, unchanged: 0 },
    });
  });

  it('waits as Retry-After says on a 429, and adds the tag to everyone once', async () => {
    const waits: number[] = [];
    const { post, calls } = fakePost((_, body, call) =>
      call === 1 ? new ApiError(429, 'rate_limited', 'slow down', [], 7) : { external_users: body.users, warnings: [] },
    );
    const run = new ImportRun({
      kind: 'users',
      post,
      dryRun: false,
      tag: ' crm ',
      wait: async (ms) => void waits.push(ms),
    });
    await run.add([...recs(1, { tags: ['vip'] }), ...recs(1, { tags: ['crm'] })]);
    await run.finish();
    expect(waits).toEqual([7000]);
    expect(calls[1].body.users.map((u: any) => u.tags)).toEqual([['vip', 'crm'], ['crm']]);
  });

  it('stops at an answer that will not change (a refused key) instead of retrying', async () => {
    const { post, calls } = fakePost(() => new ApiError(401, 'unauthorized', 'no'));
    const run = new ImportRun({ kind: 'accounts', post, dryRun: false, wait: async () => {} });
    await run.add(recs(2));
    await expect(run.finish()).rejects.toMatchObject({ status: 401 });
    expect(calls).toHaveLength(1);
    expect(calls[0].path).toBe('/external_accounts/import');
  });

  it('neutralises a failing record message a spreadsheet would run as a formula', async () => {
    const run = new ImportRun({ kind: 'users', post: fakePost(() => ({})).post, dryRun: false });
    await run.add([{ number: 1, error: '=HYPERLINK("http://evil")' }]);
    await run.finish();
    expect(run.errorsCsv().split('\n')[1]).toBe(`1,"'=HYPERLINK(""http://evil"")",unreadable_record,`);
  });
});

describe('routes', () => {
  it('round-trips every page through the hash', () => {
    for (const r of [
      { page: 'tab', tab: 'users' },
      { page: 'import' },
      { page: 'user', id: 'u_3f2a' },
      { page: 'person', by: 'email', value: 'ann+x@acme.test' },
      { page: 'person', by: 'external_id', value: 'crm/77 a' },
    ] as const)
      expect(parseRoute(routeHash(r))).toEqual(r);
    expect(parseRoute('#nonsense')).toEqual({ page: 'tab', tab: 'feedback' });
    expect(parseRoute('#user/%E0%A4%A')).toEqual({ page: 'tab', tab: 'feedback' });
  });

  it('opens a person by user id, email or external id', () => {
    expect(lookupRoute(' u_3f2a ')).toEqual({ page: 'user', id: 'u_3f2a' });
    expect(lookupRoute('Ann@Acme.test')).toEqual({ page: 'person', by: 'email', value: 'ann@acme.test' });
    expect(lookupRoute('crm-77')).toEqual({ page: 'person', by: 'external_id', value: 'crm-77' });
    expect(lookupRoute('  ')).toBeNull();
  });
});
