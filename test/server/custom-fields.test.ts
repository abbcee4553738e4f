/**
 * Custom field definitions (docs/API.md#http-api): undefined keys are stored as given; defined ones
 * are coerced, and a value that does not fit is dropped and reported, never stored wrongly.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coerceValue } from '../../server/core/custom-fields.ts';
import type { CustomFieldDef } from '../../shared/imports.ts';
import { startCollector, type TestCollector } from '../helpers/collector.ts';

let c: TestCollector;
beforeAll(async () => {
  c = await startCollector({ keepData: true });
});
afterAll(async () => {
  await c.stop();
  rmSync(c.dataDir, { recursive: true, force: true });
});

const send = (method: string, path: string, body?: unknown) => c.send(method, path, body);

const def = (type: CustomFieldDef['type'], options?: string[]): CustomFieldDef => ({
  key: 'cf_x',
  object: 'user',
  type,
  options,
});

describe('coercing one value', () => {
  it.each([
    ['number', '12', 12],
    ['number', ' 3.5 ', 3.5],
    ['number', 7, 7],
    ['boolean', 'true', true],
    ['boolean', 'No', false],
    ['boolean', 1, true],
    ['timestamp', '2024-01-02T00:00:00Z', 1704153600],
    ['timestamp', '1704153600', 1704153600],
    ['text', 42, '42'],
    ['url', 'https://acme.test/x', 'https://acme.test/x'],
  ] as const)('turns a %s field value %j into %j', (type, value, expected) => {
    expect(coerceValue(def(type), value)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['number', 'twelve'],
    ['number', ''],
    ['boolean', 'maybe'],
    ['timestamp', 'yesterday'],
    ['url', 'javascript:alert(1)'],
    ['url', 'acme.test'],
  ] as const)('refuses a %s field value %j', (type, value) => {
    expect(coerceValue(def(type), value).ok).toBe(false);
  });

  it('accepts only the options of a select field', () => {
    expect(coerceValue(def('select', ['dev', 'pm']), 'pm')).toEqual({ ok: true, value: 'pm' });
    expect(coerceValue(def('select', ['dev', 'pm']), 'ceo').ok).toBe(false);
  });
});

describe('custom field definitions over HTTP', () => {
  it('stores undefined keys as given', async () => {
    const res = await send('POST', '/external_users/import', {
      users: [{ external_id: 'free-1', email: 'free@acme.test', custom_fields: { seats: '12', cf_beta: 'yes' } }],
    });
    expect(res.json.external_users[0].custom_fields).toEqual({ cf_seats: '12', cf_beta: 'yes' });
    expect(res.json.warnings).toEqual([]);
  });

  it('defines fields with PUT and lists them with GET, keys with or without cf_', async () => {
    const res = await send('PUT', '/custom_fields', {
      custom_fields: [
        { key: 'seats', object: 'user', type: 'number' },
        { key: 'cf_beta', object: 'user', type: 'boolean' },
        { key: 'signed_up', object: 'user', type: 'timestamp' },
        { key: 'persona', object: 'user', type: 'select', options: ['developer', 'manager'] },
        { key: 'region', object: 'account', type: 'select', options: ['EU', 'US'] },
        { key: 'homepage', object: 'account', type: 'url' },
      ],
    });
    expect(res.status).toBe(200);
    const listed = await send('GET', '/custom_fields');
    expect(listed.json.custom_fields.map((d: any) => `${d.object}:${d.key}:${d.type}`)).toEqual([
      'user:cf_seats:number',
      'user:cf_beta:boolean',
      'user:cf_signed_up:timestamp',
      'user:cf_persona:select',
      'account:cf_region:select',
      'account:cf_homepage:url',
    ]);
  });

  it('refuses a select without options and an unknown type', async () => {
    expect(
      (await send('PUT', '/custom_fields', { custom_fields: [{ key: 'tier', object: 'user', type: 'select' }] }))
        .status,
    ).toBe(400);
    const res = await send('PUT', '/custom_fields', {
      custom_fields: [{ key: 'tier', object: 'user', type: 'color' }],
    });
    expect(res.status).toBe(400);
    expect(res.json.errors.details[0].field).toBe('custom_fields.0.type');
  });

  it('coerces imported values and drops misfits with a warning naming record and field', async () => {
    const res = await send('POST', '/external_users/import', {
      users: [
        {
          external_id: 'typed-1',
          email: 'typed1@acme.test',
          cf_seats: '12',
          cf_beta: 'true',
          cf_signed_up: '2024-01-02T00:00:00Z',
          cf_persona: 'developer',
          cf_other: 'kept',
          account: { external_id: 'typed-acct', cf_region: 'EU', cf_homepage: 'https://acme.test' },
        },
        {
          external_id: 'typed-2',
          email: 'typed2@acme.test',
          custom_fields: { seats: 'a dozen', persona: 'ceo' },
          account: { external_id: 'typed-acct-2', cf_region: 'Mars' },
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.json.external_users[0].custom_fields).toEqual({
      cf_seats: 12,
      cf_beta: true,
      cf_signed_up: 1704153600,
      cf_persona: 'developer',
      cf_other: 'kept',
    });
    expect(res.json.external_users[1].custom_fields).toEqual({});
    expect(res.json.external_accounts.find((a: any) => a.external_id === 'typed-acct').custom_fields).toEqual({
      cf_region: 'EU',
      cf_homepage: 'https://acme.test',
    });
    expect(res.json.external_accounts.find((a: any) => a.external_id === 'typed-acct-2').custom_fields).toEqual({});
    expect(res.json.warnings.map((w: any) => `${w.index}:${w.field}`)).toEqual([
      '1:cf_seats',
      '1:cf_persona',
      '1:account.cf_region',
    ]);
    expect(res.json.warnings[0].message).toMatch(/number/);
  });

  it('keeps the stored value when a later import sends a misfit', async () => {
    await send('POST', '/external_users/import', {
      users: [{ external_id: 'keep-1', email: 'keep@acme.test', cf_seats: 5 }],
    });
    const res = await send('POST', '/external_users/import', {
      users: [{ external_id: 'keep-1', email: 'keep@acme.test', cf_seats: 'lots' }],
    });
    expect(res.json.external_users[0].custom_fields.cf_seats).toBe(5);
    expect(res.json.warnings).toHaveLength(1);
  });

  it('checks identities from bulk_identify the same way', async () => {
    await send('POST', '/external_users/import', { users: [{ external_id: 'ident-1', email: 'ident@acme.test' }] });
    const queued = await send('POST', '/bulk_identify', {
      identities: [{ id: 'ident-1', email: 'ident@acme.test', cf_seats: '30', cf_persona: 'astronaut' }],
    });
    expect(queued.status).toBe(202);
    await c.collector.intake.drained();
    const listed = await c.admin('/users?q=ident@acme.test&includes=external_users');
    expect(listed.external_users[0].custom_fields).toEqual({ cf_seats: 30 });
  });

  it('checks the identity that feedback carries the same way', async () => {
    const res = await fetch(`${c.url}/api/widget/v1/demo/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: c.url },
      body: JSON.stringify({
        message_id: 'cf-fb-1',
        kind: 'idea',
        title: 'Typed',
        identity: { id: 'fb-typed', email: 'fbtyped@acme.test', cf_seats: 'lots', cf_persona: 'manager' },
      }),
    });
    expect(res.status).toBe(201);
    const listed = await c.admin('/users?q=fbtyped@acme.test&includes=external_users');
    expect(listed.external_users[0].custom_fields).toEqual({ cf_persona: 'manager' });
  });

  it('keeps definitions across a restart and keeps enforcing them', async () => {
    await c.stop();
    c = await startCollector({ dataDir: c.dataDir, keepData: true });
    expect((await send('GET', '/custom_fields')).json.custom_fields).toHaveLength(6);
    const res = await send('POST', '/external_users/import', {
      users: [{ external_id: 'after-1', email: 'after@acme.test', cf_seats: 'many' }],
    });
    expect(res.json.warnings).toEqual([{ index: 0, field: 'cf_seats', message: expect.stringMatching(/number/) }]);
  });
});
