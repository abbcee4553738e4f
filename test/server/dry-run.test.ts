/**
 * `?dry_run=true` on both imports (docs/API.md#http-api) against a real collector on a data
 * directory: the same validation as the import, counts of what it would create, update and
 * leave alone, and nothing written — not the store, not the intake log.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type TestCollector } from '../helpers/collector.ts';

let c: TestCollector;
beforeAll(async () => {
  // No timed checkpoint: one would trim the intake log, whose bytes tell whether a dry run logged.
  c = await startCollector({ checkpointMs: 3_600_000 });
  await c.send('POST', '/external_users/import', {
    users: [
      { external_id: 'd-1', email: 'd1@dry.test', name: 'One', account: { external_id: 'd-co', mrr_cents: 100 } },
      { external_id: 'd-2', email: 'd2@dry.test', name: 'Two' },
    ],
  });
  await c.send('POST', '/bulk_identify', { identities: [{ id: 'd-pending', email: 'dp@dry.test' }] });
  await c.collector.intake.drained();
});
afterAll(async () => {
  await c.stop();
});

/** Everything a write could change: the counts, a listing, and the intake log's bytes. */
async function snapshot() {
  const dir = join(c.dataDir, 'intake');
  const log = readdirSync(dir)
    .sort()
    .map((f) => `${f}:${readFileSync(join(dir, f)).length}`);
  return {
    stats: await c.admin('/stats'),
    users: await c.admin('/users?per_page=100&includes=external_users,external_accounts'),
    accounts: await c.admin('/external_accounts?per_page=100'),
    log,
  };
}

describe('external_users/import?dry_run=true', () => {
  it('counts what it would create, update and leave as it is, and writes nothing, not even the log', async () => {
    const before = await snapshot();
    const users = [
      { external_id: 'd-1', email: 'd1@dry.test', name: 'One' }, // as stored
      { external_id: 'd-2', email: 'd2@dry.test', name: 'Two renamed' }, // a change
      { external_id: 'd-3', email: 'd1@dry.test', account: { external_id: 'd-co', mrr_cents: 100 } }, // joins One
      { external_id: 'd-4', email: 'd4@dry.test', account: { external_id: 'd-new' } },
      { external_id: 'd-pending', email: 'dp@dry.test' }, // a pending person made visible
      { external_id: 'd-4', email: 'd4@dry.test', name: 'Four' }, // the same record again
    ];
    const res = await c.send('POST', '/external_users/import?dry_run=true', { users });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      dry_run: true,
      external_users: { created: 3, updated: 1, unchanged: 1 },
      // One gains an external user (its updated_at moves), Two a name; two people are new.
      users: { created: 2, updated: 2, unchanged: 0 },
      external_accounts: { created: 1, updated: 0, unchanged: 1 },
      warnings: [],
    });
    expect(await snapshot()).toEqual(before);
    // The real import does what the dry run said it would.
    const real = await c.send('POST', '/external_users/import?dry_run=false', { users });
    expect(real.status).toBe(200);
    expect(await c.admin('/stats')).toMatchObject({
      users: before.stats.users + 2,
      external_users: before.stats.external_users + 3,
      external_accounts: before.stats.external_accounts + 1,
      pending_identities: before.stats.pending_identities - 1,
    });
  });

  it('refuses what the import would refuse, with the same details', async () => {
    const users = [
      { external_id: 'ok', email: 'ok@dry.test' },
      { email: 'no-id@dry.test' },
      { external_id: 'x', email: 'bad' },
    ];
    const dry = await c.send('POST', '/external_users/import?dry_run=true', { users });
    const real = await c.send('POST', '/external_users/import', { users });
    expect(dry.status).toBe(422);
    expect(dry.json).toEqual(real.json);
    expect(dry.json.errors.details.map((d: { index: number; field: string }) => `${d.index}:${d.field}`)).toEqual([
      '1:external_id',
      '2:email',
    ]);
  });

  it('reports custom field values that would not fit, as the import does', async () => {
    await c.send('PUT', '/custom_fields', { custom_fields: [{ key: 'seats', object: 'user', type: 'number' }] });
    const before = await snapshot();
    const res = await c.send('POST', '/external_users/import?dry_run=true', {
      users: [{ external_id: 'd-cf', email: 'dcf@dry.test', cf_seats: 'lots' }],
    });
    expect(res.json.warnings).toEqual([{ index: 0, field: 'cf_seats', message: expect.any(String) }]);
    expect(await snapshot()).toEqual(before);
  });

  it.each(['yes', '1', 'TRUE'])('refuses dry_run=%s with 400 naming dry_run', async (value) => {
    const res = await c.send('POST', `/external_users/import?dry_run=${value}`, {
      users: [{ external_id: 'z', email: 'z@dry.test' }],
    });
    expect([res.status, res.json.errors.details]).toEqual([
      400,
      [{ field: 'dry_run', message: 'must be true or false' }],
    ]);
  });
});

describe('external_accounts/import?dry_run=true', () => {
  it('counts accounts it would create, update and leave alone, writing nothing', async () => {
    const before = await snapshot();
    const res = await c.send('POST', '/external_accounts/import?dry_run=true', {
      accounts: [
        { external_id: 'd-co', mrr_cents: 100 },
        { external_id: 'd-co2', name: 'New' },
        { external_id: 'd-co', mrr_cents: 250 },
      ],
    });
    expect(res.json).toEqual({
      dry_run: true,
      external_accounts: { created: 1, updated: 1, unchanged: 0 },
      warnings: [],
    });
    expect(await snapshot()).toEqual(before);
    const bad = await c.send('POST', '/external_accounts/import?dry_run=true', { accounts: [{ name: 'no id' }] });
    expect([bad.status, bad.json.errors.details[0]]).toEqual([
      422,
      expect.objectContaining({ index: 0, field: 'external_id' }),
    ]);
  });
});
