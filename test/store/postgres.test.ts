import { afterAll, beforeAll, describe } from 'vitest';
import { PostgresStore } from '../../server/store/postgres.ts';
import { storeConformance } from './conformance.ts';
import { createSchema, DATABASE_URL, type TestSchema } from './pg-schema.ts';

describe.skipIf(!DATABASE_URL)('PostgreSQL', () => {
  let schema: TestSchema;
  let store: PostgresStore;
  beforeAll(async () => {
    schema = await createSchema();
    store = await PostgresStore.open(schema.url, { poolSize: 4 });
  });
  afterAll(async () => {
    await store?.close();
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
    await store.query(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY`);
    return { store, close: async () => {} };
  });
});
