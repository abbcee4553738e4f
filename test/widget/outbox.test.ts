// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { createOutbox, type Item } from '../../widget/outbox.ts';
import { createStorage } from '../../widget/storage.ts';
import { silent } from '../../widget/log.ts';
import { fingerprint, normalizeIdentity, type Identity } from '../../widget/identity.ts';
import { memoryStorage } from './fakes.ts';

const item = (n: number, at = 0, kind: Item['kind'] = 'identify'): Item => ({
  id: `m${n}`,
  kind,
  key: `u${n}`,
  at,
  data: { email: `u${n}@x.test` },
});

function setup(disk = memoryStorage(), now = { t: 0 }, limits = {}) {
  const storage = createStorage(() => disk, silent);
  return { disk, now, box: createOutbox({ storage, key: 'parley:v1:demo:outbox', clock: () => now.t, limits }) };
}

describe('outbox', () => {
  it('survives a reload under a versioned key', () => {
    const { disk, box } = setup();
    box.add(item(1));
    expect(JSON.parse(disk.getItem('parley:v1:demo:outbox')!).v).toBe(1);
    expect(
      setup(disk)
        .box.list()
        .map((i) => i.id),
    ).toEqual(['m1']);
  });

  it('keeps only the latest identity per user', () => {
    const { box } = setup();
    box.add(item(1));
    box.add({ ...item(1), id: 'm1b' });
    expect(box.list().map((i) => i.id)).toEqual(['m1b']);
  });

  it('never coalesces feedback', () => {
    const { box } = setup();
    box.add({ ...item(1, 0, 'feedback'), key: 'a' });
    box.add({ ...item(2, 0, 'feedback'), key: 'b' });
    expect(box.list()).toHaveLength(2);
  });

  it('drops the oldest items beyond the item cap and reports them', () => {
    const { box } = setup(undefined, undefined, { maxItems: 3 });
    const dropped = [1, 2, 3, 4, 5].flatMap((n) => box.add(item(n)));
    expect(dropped.map((i) => i.id)).toEqual(['m1', 'm2']);
    expect(box.list().map((i) => i.id)).toEqual(['m3', 'm4', 'm5']);
  });

  it('drops the oldest items beyond the size cap', () => {
    const { box, disk } = setup(undefined, undefined, { maxBytes: 400 });
    for (let n = 0; n < 10; n++) box.add(item(n));
    expect(disk.getItem('parley:v1:demo:outbox')!.length).toBeLessThanOrEqual(400);
    expect(box.list().at(-1)!.id).toBe('m9');
  });

  it('forgets items older than the TTL, also across a reload', () => {
    const { box, disk, now } = setup(undefined, undefined, { ttlMs: 1000 });
    box.add(item(1));
    now.t = 1001;
    expect(box.list()).toEqual([]);
    expect(setup(disk, now, { ttlMs: 1000 }).box.list()).toEqual([]);
  });

  it('loses no item when two tabs write the same outbox', () => {
    const disk = memoryStorage();
    const a = setup(disk).box;
    a.add(item(1, 1));
    const b = setup(disk).box;
    b.add(item(2, 2));
    a.add(item(3, 3)); // tab A never saw item 2 in memory, yet must not erase it
    expect(
      setup(disk)
        .box.list()
        .map((i) => i.id),
    ).toEqual(['m1', 'm2', 'm3']);
  });

  it('does not bring back an item this tab delivered', () => {
    const disk = memoryStorage();
    const a = setup(disk).box;
    a.add(item(1, 1));
    a.remove(['m1']);
    setup(disk).box.add(item(2, 2));
    a.add(item(3, 3));
    expect(
      setup(disk)
        .box.list()
        .map((i) => i.id),
    ).toEqual(['m2', 'm3']);
  });

  it('keeps the newest identity of a user across tabs', () => {
    const disk = memoryStorage();
    const a = setup(disk).box;
    const b = setup(disk).box;
    a.add({ ...item(1, 1), id: 'old' });
    b.add({ ...item(1, 5), id: 'new' });
    a.add(item(2, 6));
    expect(
      setup(disk)
        .box.list()
        .map((i) => i.id),
    ).toEqual(['new', 'm2']);
  });

  it('ignores a corrupt stored value', () => {
    const disk = memoryStorage();
    disk.setItem('parley:v1:demo:outbox', '{"v":1,"items":[{"id":1},null,"x"]}');
    expect(setup(disk).box.list()).toEqual([]);
    disk.setItem('parley:v1:demo:outbox', 'not json');
    expect(setup(disk).box.list()).toEqual([]);
  });
});

describe('fingerprint', () => {
  const norm = (raw: unknown) => normalizeIdentity(raw) as Identity;
  it('is the same for the same content in any key order', () => {
    const one = { email: 'a@x.test', name: 'A', cf_b: 1, cf_a: 2, account: { id: 'c', plan: 'p' } };
    const two = { account: { plan: 'p', id: 'c' }, cf_a: 2, cf_b: 1, name: 'A', email: 'a@x.test' };
    expect(fingerprint(norm(one))).toBe(fingerprint(norm(two)));
  });
  it('changes when any value changes', () => {
    expect(fingerprint(norm({ email: 'a@x.test', account: { monthly_rate: 1 } }))).not.toBe(
      fingerprint(norm({ email: 'a@x.test', account: { monthly_rate: 2 } })),
    );
  });
});
