/**
 * `parley migrate` and `parley migrate-store --from lowdb --to postgres`, as an operator runs
 * them: an embedded data directory written by a real collector ends up, record for record and
 * in the same listing order, in PostgreSQL.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LowdbStore } from '../../server/engines/embedded/lowdb-store.ts';
import { PostgresStore } from '../../server/engines/postgres/store.ts';
import { migrations } from '../../server/engines/postgres/migrations.ts';
import type { Store } from '../../server/core/store.ts';
import { startCollector } from '../helpers/collector.ts';
import { createSchema, DATABASE_URL, type TestSchema } from './pg-schema.ts';

const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], {
    env: { ...process.env, PARLEY_LOG_LEVEL: 'silent', ...env },
  });

/** Everything a site's listings and counts show. */
async function snapshot(store: Store, site: string) {
  const users = (await store.listUsers(site, { page: 1, perPage: 100 })).items;
  return {
    sites: await store.listSites(),
    counts: await store.counts(site),
    users,
    externals: await Promise.all(users.map((u) => store.externalUsersOf(site, u.id))),
    accounts: (await store.listAccounts(site, { page: 1, perPage: 100 })).items,
    feedback: (await store.listFeedback(site, { page: 1, perPage: 100 })).items,
    ideas: await store.listIdeas(site),
    pending: await store.getPending(site, 'p-1'),
    pendingByEmail: await store.pendingIdsByEmail(site, 'p-2@x.test'),
    pendingAccount: await store.getPendingAccount(site, 'held'),
    message: await store.hasMessage(site, 'wm-1'),
  };
}

describe.skipIf(!DATABASE_URL)('moving an embedded store into PostgreSQL', () => {
  let schema: TestSchema;
  beforeAll(async () => {
    schema = await createSchema();
  });
  afterAll(async () => {
    await schema?.drop();
  });

  it('migrates the schema once, copies every record in order, refuses a second copy, and then manages sites there', async () => {
    const first = JSON.parse((await cli(['migrate'], { DATABASE_URL: schema.url })).stdout);
    expect(first.applied).toEqual(migrations().map((m) => m.name));
    expect(first.applied[0]).toBe('001_initial.sql');
    expect(JSON.parse((await cli(['migrate'], { DATABASE_URL: schema.url })).stdout).applied).toEqual([]);

    const c = await startCollector({ keepData: true });
    const auth = { authorization: `Bearer ${c.adminKey}`, 'content-type': 'application/json' };
    const widget = (path: string, body: unknown) =>
      fetch(`${c.url}/api/widget/v1/demo/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify(body),
      });
    await widget('identify', {
      sent_at: Date.now(),
      identities: [
        {
          id: 'p-1',
          email: 'p-1@x.test',
          name: 'Pat',
          message_id: 'wm-1',
          observed_at: Date.now(),
          account: { id: 'held', monthly_rate: 5 },
        },
        { id: 'p-2', email: 'p-2@x.test', message_id: 'wm-2', observed_at: Date.now() },
        {
          id: 'ann',
          email: 'ann@acme.test',
          name: 'Ann',
          message_id: 'wm-3',
          observed_at: Date.now(),
          account: { id: 'acme', monthly_rate: 99.5 },
        },
      ],
    });
    await c.collector.intake.drained();
    for (const [i, title] of ['Dark mode', 'Exports'].entries()) {
      expect(
        (
          await widget('feedback', {
            message_id: `fb-${i}`,
            kind: 'idea',
            title,
            identity: { id: 'ann', email: 'ann@acme.test' },
          })
        ).status,
      ).toBe(201);
    }
    const imported = await fetch(`${c.url}/api/v2/admin/external_users/import`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        users: [
          {
            external_id: 'crm-9',
            email: 'zed@x.test',
            name: 'Zed',
            account: { external_id: 'beta', name: 'Beta', mrr_cents: 100 },
          },
          { external_id: 'crm-1', email: 'ann@acme.test' },
        ],
      }),
    });
    expect(imported.status).toBe(200);
    const dataDir = c.dataDir;
    await c.stop();

    const copied = JSON.parse(
      (
        await cli(['migrate-store', '--from', 'lowdb', '--to', 'postgres'], {
          PARLEY_DATA_DIR: dataDir,
          DATABASE_URL: schema.url,
        })
      ).stdout,
    );
    expect(copied).toMatchObject({
      sites: 1,
      users: 2,
      external_users: 3,
      accounts: 2,
      pending_identities: 2,
      pending_accounts: 1,
      feedback: 2,
      ideas: 2,
    });

    const lowdb = await LowdbStore.open(join(dataDir, 'store'));
    const pg = await PostgresStore.open(schema.url, { poolSize: 2 });
    try {
      const expected = await snapshot(lowdb, 'demo');
      expect(expected.counts).toMatchObject({ users: 2, pending_identities: 2, feedback: 2 });
      expect(await snapshot(pg, 'demo')).toEqual(expected);
    } finally {
      await pg.close();
    }
    await expect(
      cli(['migrate-store', '--from', 'lowdb', '--to', 'postgres'], {
        PARLEY_DATA_DIR: dataDir,
        DATABASE_URL: schema.url,
      }),
    ).rejects.toThrow(/already holds sites/);
    rmSync(dataDir, { recursive: true, force: true });

    // Sites are then managed on the database, while collectors run.
    const pgEnv = { PARLEY_STORE: 'postgres', DATABASE_URL: schema.url };
    const created = JSON.parse(
      (await cli(['sites', 'create', '--name', 'Acme', '--origin', 'https://app.acme.test'], pgEnv)).stdout,
    );
    expect(created.origins).toEqual(['https://app.acme.test']);
    const listed = JSON.parse((await cli(['sites', 'list'], pgEnv)).stdout);
    expect(listed.map((site: { site_key: string }) => site.site_key)).toEqual(['demo', created.site_key]);
  }, 240_000);
});
