import { afterAll, beforeAll, describe } from 'vitest';
import { openEngine, type AnyEngine } from '../../server/engines/index.ts';
import { storeConformance } from './conformance.ts';
import { createSchema, DATABASE_URL, type TestSchema } from './pg-schema.ts';

describe.skipIf(!DATABASE_URL)('PostgreSQL', () => {
  let schema: TestSchema;
  let engine: AnyEngine;
  beforeAll(async () => {
    schema = await createSchema();
    engine = await openEngine({ databaseUrl: schema.url, dataDir: null, role: 'command' });
  });
  afterAll(async () => {
    await engine?.close();
    await schema?.drop();
  });

  const TABLES = [
    'sites',
    'users',
    'external_users',
    'accounts',
    'pending',
    'pending_accounts',
    'messages',
    'ideas',
    'feedback',
    'intake',
    'intake_failed',
  ];
  storeConformance('postgres', async () => {
    if (engine.kind !== 'postgres') throw new Error('a database URL opens PostgreSQL');
    await engine.store.query(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY`);
    return { store: engine.store, close: async () => {} };
  });
});
