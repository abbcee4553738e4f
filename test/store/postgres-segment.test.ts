/**
 * The /v1 routes and the new site settings on PostgreSQL (docs/API.md#the-v1-routes): sites are
 * stored as documents there, so the write key hash, the segment secret, geoip and the revenue
 * trait must survive the round trip; a Segment delete is an admin op applied in its own
 * transaction, in log order after the identities before it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCollector } from '../../server/collector.ts';
import { rotateWriteKey, setSiteSettings, siteByWriteKey } from '../../server/sites.ts';
import { createSchema, DATABASE_URL, type TestSchema } from './pg-schema.ts';

describe.skipIf(!DATABASE_URL)('the /v1 routes on PostgreSQL', () => {
  let schema: TestSchema;
  let collector: Awaited<ReturnType<typeof openCollector>>;
  let server: Server;
  let url: string;
  let writeKey: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-pgseg-'));

  beforeAll(async () => {
    schema = await createSchema();
    collector = await openCollector({ dataDir, databaseUrl: schema.url, demoAdminKey: 'pg-segment-admin-key-01' });
    server = collector.app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await collector.ensureDemoSite([url]);
    writeKey = (await rotateWriteKey(collector.store, 'demo')).write_key;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await collector?.close(server);
    await schema?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const v1 = async (body: unknown) => {
    const res = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Basic ' + Buffer.from(writeKey + ':').toString('base64'),
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  it('keeps the site settings and finds the site by its write key', async () => {
    await setSiteSettings(collector.store, 'demo', {
      segment_secret: 'segment-shared-secret-1',
      geoip: false,
      revenue_trait: { name: 'arr_monthly', unit: 'cents' },
    });
    const site = await siteByWriteKey(collector.store, writeKey);
    expect(site).toMatchObject({
      key: 'demo',
      segment_secret: 'segment-shared-secret-1',
      geoip: false,
      revenue_trait: { name: 'arr_monthly', unit: 'cents' },
    });
    await setSiteSettings(collector.store, 'demo', { segment_secret: null, geoip: true, revenue_trait: null });
  });

  it('applies identify and group, and erases on delete, in order', async () => {
    const res = await v1({
      batch: [
        { type: 'identify', userId: 'pg-1', messageId: 'pg-m1', traits: { email: 'pg1@acme.test', name: 'Pg One' } },
        { type: 'group', userId: 'pg-1', groupId: 'pg-acct', traits: { name: 'Pg Acct', mrr: 10 } },
        { type: 'identify', userId: 'pg-2', traits: { email: 'pg2@acme.test' } },
        { type: 'delete', userId: 'pg-2' },
      ],
    });
    expect(res).toMatchObject({ status: 202, json: { accepted: 3, erased: 1 } });
    await collector.intake.drained();
    expect((await collector.store.getPending('demo', 'pg-1'))?.profile.f).toMatchObject({
      email: 'pg1@acme.test',
      name: 'Pg One',
      account: 'pg-acct',
    });
    expect(JSON.stringify(await collector.store.getPendingAccount('demo', 'pg-acct'))).toContain('"mrr_cents":1000');
    expect(await collector.store.getPending('demo', 'pg-2')).toBeUndefined();
  });
});
