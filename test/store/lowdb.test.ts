import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  Account,
  ExternalUser,
  Feedback,
  Pending,
  PendingAccount,
  Site,
  User,
} from '../../server/core/records.ts';
import { CHUNK_RECORDS, LowdbStore } from '../../server/engines/embedded/lowdb-store.ts';
import { storeConformance } from './conformance.ts';

/**
 * Everything the embedded store holds, collection by collection: the lowdb store is the memory
 * store plus files, so its Maps are the whole of its state. Visible collections keep their
 * order (listings show creation order); the pending shards are files by hash, so what they
 * hold is compared by key.
 */
const ORDERED = ['sites', 'users', 'usersByEmail', 'externalUsers', 'accounts', 'feedback', 'ideas'];
/** Stored by hash or bucket, so compared by key. */
const SHARDED = ['pending', 'pendingAccounts', 'messages'];

function contents(store: LowdbStore) {
  const maps = store as unknown as Record<string, Map<string, unknown>>;
  const out: Record<string, unknown> = {};
  // Deep copies, so that what the test wrote cannot change under the comparison.
  for (const name of ORDERED) out[name] = structuredClone([...maps[name].entries()]);
  for (const name of SHARDED)
    out[name] = structuredClone([...maps[name].entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  return out;
}

/** Checkpoints `store` at `seq`, reopens its directory, and expects every collection back as it was. */
async function expectReopened(store: LowdbStore, dir: string, seq: number): Promise<LowdbStore> {
  const written = contents(store);
  await (
    await store.prepareCheckpoint(seq)
  )();
  const reopened = await LowdbStore.open(dir, () => 0);
  expect(reopened.appliedSeq()).toBe(seq);
  expect(contents(reopened)).toEqual(written);
  return reopened;
}

// The clock stands at 0 so that no remembered message id is old enough to be dropped by the
// checkpoint: everything written must come back.
storeConformance('lowdb', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-conformance-'));
  const store = await LowdbStore.open(dir, () => 0);
  return {
    store,
    async close() {
      try {
        // Whatever the case left in the store must survive a checkpoint and a reopen, whole.
        await expectReopened(store, dir, 1);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
});

describe('lowdb checkpoints', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const S = 'acme';
  const profile = (f: Record<string, unknown>) => ({
    f,
    v: Object.fromEntries(Object.keys(f).map((k) => [k, [1, 5, 'm'] as [number, number, string]])),
  });
  const site: Site = {
    key: S,
    name: 'Acme',
    admin_key_hash: 'h',
    identity_secrets: ['s'],
    origins: ['https://app.acme.test'],
    verification: 'optional',
    created_at: 1,
  };
  const user: User = { site: S, id: 'u1', email: 'ann@acme.test', name: 'Ann', created_at: 2, updated_at: 3 };
  const eu: ExternalUser = {
    site: S,
    external_id: 'e1',
    user_id: 'u1',
    profile: profile({ email: 'ann@acme.test', account: 'acme-co', cf_seats: 3 }),
    created_at: 2,
    updated_at: 3,
  };
  const account: Account = {
    site: S,
    key: 'acme-co',
    external_id: 'acme-co',
    profile: profile({ name: 'Acme Co', mrr_cents: 9950 }),
    created_at: 2,
    updated_at: 3,
  };
  const pending: Pending = {
    site: S,
    external_id: 'p1',
    profile: profile({ email: 'bob@acme.test' }),
    account_keys: ['held-co'],
    received_at: 4,
  };
  const held: PendingAccount = {
    site: S,
    key: 'held-co',
    external_id: 'held-co',
    profile: profile({ mrr_cents: 100 }),
    updated_at: 4,
  };
  const feedback: Feedback = {
    site: S,
    id: 'f1',
    message_id: 'fm1',
    kind: 'idea',
    title: 'Dark mode',
    idea_id: 'f1',
    user_id: 'u1',
    external_user_id: 'e1',
    account_key: 'acme-co',
    mrr_cents_at: 9950,
    created_at: 5,
  };

  it('brings back every collection after a full checkpoint, and after a checkpoint of one change to each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-lowdb-'));
    dirs.push(dir);
    const store = await LowdbStore.open(dir, () => 0);
    await store.putSite(site);
    await store.putUser(user);
    await store.putExternalUser(eu);
    await store.putAccount(account);
    await store.putPending(pending);
    await store.putPendingAccount(held);
    await store.addMessage(S, 'm1', 5);
    await store.putFeedback(feedback, { site: S, id: 'f1', title: 'Dark mode', created_at: 5 });
    await store.putCustomFields(S, [{ key: 'cf_seats', object: 'user', type: 'number' }]);
    const reopened = await expectReopened(store, dir, 7);
    expect((await reopened.counts(S)).users).toBe(1);

    // The second checkpoint writes only the files that changed: each must carry its change.
    await reopened.putSite({ ...site, verification: 'required' });
    await reopened.putUser({ ...user, id: 'u2', email: 'cat@acme.test' });
    await reopened.putExternalUser({ ...eu, external_id: 'e2', user_id: 'u2' });
    await reopened.putAccount({ ...account, profile: profile({ name: 'Acme Co', mrr_cents: 1 }) });
    await reopened.deletePending(S, 'p1');
    await reopened.putPendingAccount({ ...held, key: 'other-co' });
    await reopened.addMessage(S, 'm2', 6);
    await reopened.putFeedback({ ...feedback, id: 'f2', message_id: 'fm2', kind: 'comment', body: 'Yes' }, null);
    const again = await expectReopened(reopened, dir, 9);
    expect(await again.getPending(S, 'p1')).toBeUndefined();
    expect((await again.getAccount(S, 'acme-co'))!.profile.f.mrr_cents).toBe(1);
  });
});

describe('lowdb checkpoints cost what changed', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const S = 'acme';
  const pendingOf = (i: number): Pending => ({
    site: S,
    external_id: `p-${i}`,
    profile: { f: { email: `p-${i}@acme.test`, name: `Person ${i}` }, v: {} },
    account_keys: [],
    received_at: i,
  });
  const userOf = (i: number): User => ({
    site: S,
    id: `u-${i}`,
    email: `u-${i}@acme.test`,
    name: `User ${i}`,
    created_at: i,
    updated_at: i,
  });
  /** The files the store directory holds now, with their sizes. */
  const files = (dir: string) => new Map(readdirSync(dir).map((f) => [f, statSync(join(dir, f)).size]));

  async function bigStore(n: number) {
    const dir = mkdtempSync(join(tmpdir(), 'parley-lowdb-delta-'));
    dirs.push(dir);
    const store = await LowdbStore.open(dir, () => 0);
    for (let i = 0; i < n; i++) {
      await store.putPending(pendingOf(i));
      await store.putUser(userOf(i));
    }
    // A delta, then a merge into a base (as when deltas outgrow the base).
    await (
      await store.prepareCheckpoint(1)
    )();
    // A delta this large is written in parts of CHUNK_RECORDS, all read back.
    const parts = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).deltas.length;
    expect(parts).toBe(Math.max(1, Math.ceil((2 * n + 1) / CHUNK_RECORDS)));
    expect(await (await LowdbStore.open(dir, () => 0)).counts(S)).toMatchObject({ users: n, pending_identities: n });
    (store as unknown as { mustMerge: boolean }).mustMerge = true;
    await (
      await store.prepareCheckpoint(1)
    )();
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).deltas).toEqual([]);
    return { dir, store };
  }

  it('writes one small delta for one changed record of 40,000, and reopens with it', async () => {
    const { dir, store } = await bigStore(20_000);
    const before = files(dir);
    await store.putUser({ ...userOf(7), name: 'Changed' });
    await (
      await store.prepareCheckpoint(2)
    )();
    const after = files(dir);
    const added = [...after.keys()].filter((f) => !before.has(f));
    expect(added).toEqual(['delta.3.0.json']);
    expect(after.get('delta.3.0.json')).toBeLessThan(400);
    // Nothing else was rewritten: every base chunk is the same file, the same size.
    for (const [f, size] of before) if (f !== 'manifest.json') expect(after.get(f)).toBe(size);
    const reopened = await LowdbStore.open(dir, () => 0);
    expect((await reopened.getUser(S, 'u-7'))!.name).toBe('Changed');
    expect((await reopened.counts(S)).pending_identities).toBe(20_000);
  }, 60_000);

  it('keeps creation order through deltas (a deleted then re-created record goes last) and through a merge', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-lowdb-order-'));
    dirs.push(dir);
    let store = await LowdbStore.open(dir, () => 0);
    for (let i = 0; i < 5; i++) await store.putUser(userOf(i));
    store = await expectReopened(store, dir, 1);
    await store.putUser(userOf(5));
    await store.deleteUser(S, 'u-1');
    await store.putUser(userOf(1));
    await store.putUser({ ...userOf(2), name: 'Renamed' });
    await store.deletePending(S, 'nobody');
    store = await expectReopened(store, dir, 2);
    const ids = async (s: LowdbStore) => (await s.listUsers(S, { page: 1, perPage: 10 })).items.map((u) => u.id);
    expect(await ids(store)).toEqual(['u-0', 'u-2', 'u-3', 'u-4', 'u-5', 'u-1']);
    // Enough deltas to outgrow nothing but the count limit is not practical here; force a merge.
    (store as unknown as { mustMerge: boolean }).mustMerge = true;
    store = await expectReopened(store, dir, 3);
    expect(await ids(store)).toEqual(['u-0', 'u-2', 'u-3', 'u-4', 'u-5', 'u-1']);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.deltas).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', ...manifest.base.users].sort());
  });

  it('stops opening, naming the file, when a file the manifest names is half-written or missing', async () => {
    const { dir, store } = await bigStore(10);
    await store.putUser({ ...userOf(1), name: 'Changed' });
    await (
      await store.prepareCheckpoint(2)
    )();
    const delta = join(dir, 'delta.3.0.json');
    const text = readFileSync(delta, 'utf8');
    writeFileSync(delta, text.slice(0, text.length >> 1));
    await expect(LowdbStore.open(dir)).rejects.toThrow(new RegExp(`${delta}.*not valid JSON`));
    expect(readFileSync(delta, 'utf8')).toBe(text.slice(0, text.length >> 1));
    unlinkSync(delta);
    await expect(LowdbStore.open(dir)).rejects.toThrow(new RegExp(`${delta}.*missing`));
  });
});

it('reads a store of the format before deltas, and rewrites it as a base at its first checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-lowdb-v1-'));
  try {
    const S = 'acme';
    const user: User = { site: S, id: 'u1', email: 'ann@acme.test', name: 'Ann', created_at: 1, updated_at: 1 };
    const p: Pending = { site: S, external_id: 'p1', profile: { f: {}, v: {} }, account_keys: [], received_at: 1 };
    writeFileSync(join(dir, 'users.1.json'), JSON.stringify([user]));
    writeFileSync(join(dir, 'pending-03.1.json'), JSON.stringify({ pending: [p], messages: [[`${S}\u0000m1`, 5]] }));
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        version: 1,
        applied_seq: 3,
        generation: 1,
        files: { users: 'users.1.json', 'pending-03': 'pending-03.1.json' },
      }),
    );
    const store = await LowdbStore.open(dir, () => 10);
    expect(store.appliedSeq()).toBe(3);
    expect(await store.getUser(S, 'u1')).toEqual(user);
    expect(await store.getPending(S, 'p1')).toEqual(p);
    expect(await store.hasMessage(S, 'm1')).toBe(true);
    await (
      await store.prepareCheckpoint(4)
    )();
    expect(readdirSync(dir).filter((f) => f === 'users.1.json' || f === 'pending-03.1.json')).toEqual([]);
    const again = await LowdbStore.open(dir, () => 10);
    expect(await again.getUser(S, 'u1')).toEqual(user);
    expect(await again.hasMessage(S, 'm1')).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('reads a version 2 store (pending records as objects), keeps them packed, and refuses a version it does not know', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-lowdb-v2-'));
  try {
    const S = 'acme';
    const V: [number, number, string] = [3, 5, '1'];
    const p: Pending = {
      site: S,
      external_id: 'p1',
      profile: { f: { email: 'ann@acme.test', account: 'co' }, v: { email: V, account: V } },
      account_keys: ['co'],
      received_at: 5,
    };
    const held: PendingAccount = {
      site: S,
      key: 'co',
      external_id: 'co',
      profile: { f: { plan: 'Team' }, v: { plan: V } },
      updated_at: 5,
    };
    writeFileSync(join(dir, 'pending.1.0.json'), JSON.stringify([[`${S}\u0000p1`, p]]));
    writeFileSync(join(dir, 'pending_accounts.1.1.json'), JSON.stringify([[`${S}\u0000co`, held]]));
    const v2 = {
      version: 2,
      applied_seq: 3,
      generation: 1,
      base: { pending: ['pending.1.0.json'], pending_accounts: ['pending_accounts.1.1.json'] },
      base_bytes: 100,
      deltas: [],
      delta_bytes: 0,
    };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(v2));
    const store = await LowdbStore.open(dir, () => 10);
    expect(await store.getPending(S, 'p1')).toEqual(p);
    expect(await store.getPendingAccount(S, 'co')).toEqual(held);
    expect(await store.pendingIdsByEmail(S, 'ann@acme.test')).toEqual(['p1']);
    // A change is a delta beside the old base; the manifest says version 3 from then on.
    await store.putPending({ ...p, external_id: 'p2' });
    await (
      await store.prepareCheckpoint(4)
    )();
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ version: 3, base: v2.base, deltas: ['delta.2.0.json'] });
    // The delta holds the record as the string the store keeps, not as an object.
    const delta = JSON.parse(readFileSync(join(dir, 'delta.2.0.json'), 'utf8'));
    expect(typeof delta.put.pending[0][1]).toBe('string');
    const again = await LowdbStore.open(dir, () => 10);
    expect(await again.getPending(S, 'p1')).toEqual(p);
    expect(await again.getPending(S, 'p2')).toEqual({ ...p, external_id: 'p2' });
    expect(await again.getPendingAccount(S, 'co')).toEqual(held);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, version: 4 }));
    await expect(LowdbStore.open(dir)).rejects.toThrow(/manifest\.json has version 4, unknown to this Parley/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
