import { describe, expect, it } from 'vitest';
import { heapUsed } from './heap.ts';
import type { Pending, PendingAccount } from '../../server/core/records.ts';
import type { Version } from '../../server/core/merge.ts';
import { MemoryStore } from '../../server/engines/embedded/memory-store.ts';
import {
  packPending,
  packPendingAccount,
  packedTime,
  pendingReceivedAt,
  unpackPending,
  unpackPendingAccount,
} from '../../server/engines/embedded/packed-records.ts';

const V1: Version = [3, 1700000000000, '17', 'm-1'];
const V2: Version = [2, 1700000000500, '3'];

/** A pending identity as one identify leaves it: every field at one version. */
function pending(i = 1): Pending {
  const f = {
    email: `person.${i}@example.test`,
    name: `Person ${i} Ünïcode`,
    created_at: 1364530423,
    location: { country: 'DE', city: 'Berlin' },
    account: 'acct-7',
    'account:acct-7': true,
    cf_persona: 'manager',
  };
  return {
    site: 'acme',
    external_id: `u-${i}`,
    profile: { f, v: Object.fromEntries(Object.keys(f).map((k) => [k, V1])) },
    account_keys: ['acct-7'],
    received_at: 1700000000123,
  };
}

describe('packed pending identities and accounts', () => {
  it('unpack what they packed, with one version array per run of fields, as merging left them', () => {
    const p = pending();
    p.profile.f.name = 'Ånne ✓ 名前';
    p.profile.f.plan = 'Team';
    p.profile.v.plan = V2;
    p.profile.f.title = 'CTO';
    p.profile.v.title = V1;
    const packed = packPending(p);
    const back = unpackPending('acme', 'u-1', packed);
    expect(back).toEqual(p);
    // Three runs (V1 ×7, V2, V1), not one array per field; site and id are the store's key.
    expect(JSON.parse(packed)[1]).toEqual([
      [7, ...V1],
      [1, ...V2],
      [1, ...V1],
    ]);
    expect(packed).not.toContain('acme');
    // The names every identify sends are their place in a list; others are written out.
    expect(packed).not.toContain('"email"');
    expect(packed).toContain('"cf_persona"');
    expect(back.profile.v.email).toBe(back.profile.v.cf_persona);
    expect(packedTime(packed)).toBe(1700000000123);
  });

  it('keep versions that do not line up with the fields, fields that are undefined, and fields a record did not declare', () => {
    const p = pending();
    // Versions in another order than the fields.
    const swapped: Pending = { ...p, profile: { f: { a: 1, b: 2 }, v: { b: V2, a: V1 } } };
    expect(unpackPending('acme', 'u-1', packPending(swapped))).toEqual(swapped);
    // A field named like a place in the list of names stays a name.
    const numeric: Pending = { ...p, profile: { f: { '0': 'zero', email: 'e@x.test' }, v: { '0': V1, email: V2 } } };
    expect(unpackPending('acme', 'u-1', packPending(numeric))).toEqual(numeric);
    // A version without its field.
    const orphan: Pending = { ...p, profile: { f: { a: 1 }, v: { a: V1, gone: V2 } } };
    expect(unpackPending('acme', 'u-1', packPending(orphan))).toEqual(orphan);
    // An undefined field is not written (as JSON never did), and the runs still line up.
    const holes: Pending = { ...p, profile: { f: { a: 1, b: undefined, c: 3 }, v: { a: V1, b: V1, c: V2 } } };
    expect(unpackPending('acme', 'u-1', packPending(holes))).toEqual({
      ...p,
      profile: { f: { a: 1, c: 3 }, v: { a: V1, b: V1, c: V2 } },
    });
    // A field beyond the declared ones survives, and the time is still read from the end.
    const more = { ...p, origin: 'import' } as Pending;
    const packed = packPending(more);
    expect(unpackPending('acme', 'u-1', packed)).toEqual(more);
    expect(packedTime(packed)).toBe(p.received_at);
    // A time that is not a number is read by parsing.
    const odd = packPending({ ...p, received_at: null as never });
    expect(Number.isNaN(packedTime(odd))).toBe(true);
    expect(pendingReceivedAt(odd)).toBeNull();
  });

  it('pack pending accounts the same way, a null external id included', () => {
    const a: PendingAccount = {
      site: 'acme',
      key: 'acct-7',
      external_id: null,
      profile: { f: { name: 'Acme', mrr_cents: 9950 }, v: { name: V1, mrr_cents: V1 } },
      updated_at: 1700000000999,
    };
    const packed = packPendingAccount(a);
    expect(unpackPendingAccount('acme', 'acct-7', packed)).toEqual(a);
    expect(packedTime(packed)).toBe(1700000000999);
  });

  it('a read is a copy: changing what was read changes nothing stored until it is put back', async () => {
    const store = new MemoryStore();
    await store.putPending(pending());
    const read = (await store.getPending('acme', 'u-1'))!;
    read.profile.f.email = 'changed@example.test';
    read.account_keys.push('other');
    expect(await store.getPending('acme', 'u-1')).toEqual(pending());
    await store.putPending(read);
    expect((await store.getPending('acme', 'u-1'))!.profile.f.email).toBe('changed@example.test');
  });

  it('finds pending identities by email exactly, not by an email some other field holds', async () => {
    const store = new MemoryStore();
    const decoy = pending(2);
    decoy.profile.f.location = { email: 'person.1@example.test' };
    decoy.profile.f.name = '"email":"person.1@example.test"';
    await store.putPending(decoy);
    await store.putPending(pending(1));
    await store.putPending({ ...pending(1), site: 'other' });
    expect(await store.pendingIdsByEmail('acme', 'person.1@example.test')).toEqual(['u-1']);
    expect(await store.pendingIdsByEmail('acme', 'person.2@example.test')).toEqual(['u-2']);
  });

  it('cost one flat string each in memory, well under half a kilobyte for an identify of ~10 fields', async () => {
    const n = 20_000;
    const store = new MemoryStore();
    const packedLength = packPending(pending(n)).length;
    const before = heapUsed();
    for (let i = 0; i < n; i++) await store.putPending({ ...pending(i), external_id: `u-pending-${i}` });
    const perRecord = (heapUsed() - before) / n;
    // The string (a byte a character when every one is Latin-1, plus a 16 B header), its key,
    // and the Map's slot for it; a string left as JSON.stringify's rope of parts costs ~140 B more.
    expect(packedLength).toBeLessThan(300);
    expect(perRecord).toBeLessThan(packedLength + 130);
    expect(await store.counts('acme')).toMatchObject({ pending_identities: n });
  });
});
