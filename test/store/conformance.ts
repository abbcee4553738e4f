/**
 * The store conformance suite: every Store implementation (memory, lowdb, PostgreSQL) must
 * pass it, so that everything above the store behaves identically on each (issue 8). It
 * drives the interface directly, row by row, and then the core semantics (docs/API.md#identify-semantics)
 * through it.
 */
import { beforeEach, afterEach, describe, expect, it } from 'vitest';
import { identitySchema, type Identity } from '../../shared/identity.ts';
import { applyIdentity, type IdentifyItem } from '../../server/core/identify.ts';
import { recordFeedback, type FeedbackItem } from '../../server/core/feedback.ts';
import { eraseUser } from '../../server/core/erase.ts';
import { RANK } from '../../server/core/merge.ts';
import type { Account, ExternalUser, Feedback, Pending, Site, User } from '../../server/core/records.ts';
import { rankFor } from '../../server/trust/ranks.ts';
import { BadCursor, USER_SORTS, type Cursor, type Page, type Store } from '../../server/core/store.ts';
import { peopleConformance } from './conformance-people.ts';
import { segmentConformance } from './conformance-segments.ts';

export interface StoreHandle {
  store: Store;
  close(): Promise<void>;
}

const S = 'site-a';
const T = 'site-b';

const site = (key: string, extra: Partial<Site> = {}): Site => ({
  key,
  name: key,
  admin_key_hash: `hash-${key}`,
  identity_secrets: ['secret'],
  origins: ['http://localhost'],
  verification: 'off',
  created_at: 1,
  ...extra,
});
const user = (id: string, email: string, extra: Partial<User> = {}): User => ({
  site: S,
  id,
  email,
  created_at: 10,
  updated_at: 10,
  ...extra,
});
const eu = (
  external_id: string,
  user_id: string,
  f: Record<string, unknown> = {},
  extra: Partial<ExternalUser> = {},
): ExternalUser => ({
  site: S,
  external_id,
  user_id,
  profile: { f, v: Object.fromEntries(Object.keys(f).map((k) => [k, [0, 1, 'm']])) as never },
  created_at: 10,
  updated_at: 10,
  ...extra,
});
const account = (key: string, f: Record<string, unknown> = {}, extra: Partial<Account> = {}): Account => ({
  site: S,
  key,
  external_id: key,
  profile: { f, v: {} },
  created_at: 10,
  updated_at: 10,
  ...extra,
});
const pending = (external_id: string, email: string, received_at = 100): Pending => ({
  site: S,
  external_id,
  profile: { f: { email }, v: { email: [0, 1, 'm'] } },
  account_keys: [],
  received_at,
});
const feedbackRow = (n: number, extra: Partial<Feedback> = {}): Feedback => ({
  site: S,
  id: `f${n}`,
  message_id: `fm${n}`,
  kind: 'comment',
  body: `body ${n}`,
  user_id: null,
  external_user_id: null,
  account_key: null,
  mrr_cents_at: null,
  created_at: n,
  ...extra,
});

const ids = <T extends { id: string }>(xs: T[]) => xs.map((x) => x.id);

export function storeConformance(name: string, open: () => Promise<StoreHandle>): void {
  describe(`${name} store conformance`, () => {
    let h: StoreHandle;
    let store: Store;
    beforeEach(async () => {
      h = await open();
      store = h.store;
    });
    afterEach(async () => {
      await h.close();
    });

    it('keeps sites, finds one by admin key hash, and lists them in creation order', async () => {
      await store.putSite(site('b'));
      await store.putSite(site('a'));
      await store.putSite(site('b', { name: 'renamed' }));
      expect((await store.listSites()).map((s) => s.key)).toEqual(['b', 'a']);
      expect((await store.getSite('b'))!.name).toBe('renamed');
      expect((await store.getSiteByAdminKeyHash('hash-a'))!.key).toBe('a');
      expect(await store.getSiteByAdminKeyHash('nope')).toBeUndefined();
      expect(await store.getSite('zz')).toBeUndefined();
    });

    it('keeps custom field definitions on their site, and none for an unknown site', async () => {
      await store.putSite(site(S));
      expect(await store.customFields(S)).toEqual([]);
      const defs = [{ key: 'persona', object: 'user' as const, type: 'select' as const, options: ['dev', 'pm'] }];
      await store.putCustomFields(S, defs as never);
      expect(await store.customFields(S)).toEqual(defs);
      await store.putCustomFields('nowhere', defs as never);
      expect(await store.customFields('nowhere')).toEqual([]);
      expect(await store.getSite('nowhere')).toBeUndefined();
    });

    it('writes users by id, finds them by email, and moves the email index with an email change', async () => {
      await store.putUser(user('u1', 'ann@acme.test', { name: 'Ann' }));
      expect(await store.getUser(S, 'u1')).toEqual(user('u1', 'ann@acme.test', { name: 'Ann' }));
      expect((await store.getUserByEmail(S, 'ann@acme.test'))!.id).toBe('u1');
      expect(await store.getUserByEmail(T, 'ann@acme.test')).toBeUndefined();
      await store.putUser(user('u1', 'ann@new.test', { name: 'Ann' }));
      expect(await store.getUserByEmail(S, 'ann@acme.test')).toBeUndefined();
      expect((await store.getUserByEmail(S, 'ann@new.test'))!.id).toBe('u1');
      await store.deleteUser(S, 'u1');
      expect(await store.getUser(S, 'u1')).toBeUndefined();
      expect(await store.getUserByEmail(S, 'ann@new.test')).toBeUndefined();
      await store.deleteUser(S, 'u1');
    });

    it('pages users in creation order, updates keeping their place', async () => {
      for (let i = 0; i < 7; i++) await store.putUser(user(`u${i}`, `p${i}@x.test`, { created_at: 100 - i }));
      await store.putUser(user('u2', 'p2@x.test', { name: 'Changed', created_at: 98 }));
      await store.putUser({ ...user('other', 'o@x.test'), site: T });
      const p1 = await store.listUsers(S, { page: 1, perPage: 3 });
      expect(p1.total).toBe(7);
      expect(ids(p1.items)).toEqual(['u0', 'u1', 'u2']);
      expect(ids((await store.listUsers(S, { page: 3, perPage: 3 })).items)).toEqual(['u6']);
      expect((await store.listUsers(S, { page: 4, perPage: 3 })).items).toEqual([]);
      await store.deleteUser(S, 'u0');
      await store.putUser(user('u0', 'p0@x.test'));
      expect(ids((await store.listUsers(S, { page: 1, perPage: 10 })).items)).toEqual([
        'u1',
        'u2',
        'u3',
        'u4',
        'u5',
        'u6',
        'u0',
      ]);
    });

    it('sorts users by each order, ties broken by id, descending reversing both', async () => {
      await store.putUser(user('c', 'zed@x.test', { name: 'bob', created_at: 5, updated_at: 9 }));
      await store.putUser(user('a', 'amy@x.test', { name: 'Bob', created_at: 5, updated_at: 7 }));
      await store.putUser(user('b', 'max@x.test', { created_at: 3, updated_at: 8 }));
      const order = async (sort: string) =>
        ids((await store.listUsers(S, { page: 1, perPage: 10, sort: sort as never })).items);
      expect(await order('created_at')).toEqual(['b', 'a', 'c']);
      expect(await order('-created_at')).toEqual(['c', 'a', 'b']);
      expect(await order('updated_at')).toEqual(['a', 'b', 'c']);
      expect(await order('-updated_at')).toEqual(['c', 'b', 'a']);
      expect(await order('name')).toEqual(['b', 'a', 'c']);
      expect(await order('-name')).toEqual(['c', 'a', 'b']);
      expect(await order('email')).toEqual(['a', 'b', 'c']);
      expect(await order('-email')).toEqual(['c', 'b', 'a']);
      expect(ids((await store.listUsers(S, { page: 2, perPage: 1, sort: 'email' })).items)).toEqual(['b']);
    });

    it('pages users by cursor in every order: the offset order, each once, and later additions at the end', async () => {
      for (let i = 0; i < 9; i++) {
        await store.putUser(
          user(`u${i}`, `p${(i * 5) % 9}@x.test`, {
            name: i % 3 ? `N${i % 4}` : undefined,
            created_at: 10 + (i % 3),
            updated_at: 20 - (i % 4),
          }),
        );
      }
      for (const sort of [undefined, ...USER_SORTS]) {
        const all = ids((await store.listUsers(S, { page: 1, perPage: 100, sort })).items);
        const walked: string[] = [];
        let page = await store.listUsers(S, { page: 1, perPage: 2, sort });
        for (;;) {
          walked.push(...ids(page.items));
          expect(page.total).toBe(9);
          if (!page.next) break;
          page = await store.listUsers(S, { page: 1, perPage: 2, sort, after: page.next });
        }
        expect([sort, walked]).toEqual([sort, all]);
      }
      const first = await store.listUsers(S, { page: 1, perPage: 8 });
      await store.putUser(user('u9', 'late@x.test'));
      const rest = await store.listUsers(S, { page: 1, perPage: 8, after: first.next! });
      expect([ids(rest.items), rest.next]).toEqual([['u8', 'u9'], null]);
      await expect(store.listUsers(S, { page: 1, perPage: 2, after: ['x', 'y', 'z'] })).rejects.toBeInstanceOf(
        BadCursor,
      );
      await expect(
        store.listUsers(S, { page: 1, perPage: 2, sort: 'created_at', after: ['x', 'y'] }),
      ).rejects.toBeInstanceOf(BadCursor);
    });

    it('pages filtered users by cursor, and accounts and feedback too', async () => {
      for (let i = 0; i < 6; i++) {
        await store.putUser(user(`u${i}`, `p${i}@${i % 2 ? 'odd' : 'even'}.test`));
        await store.putAccount(account(`k${i}`, { mrr_cents: (i % 3) * 100 }, { created_at: i }));
        await store.putFeedback(feedbackRow(i), null);
      }
      const walk = async <T>(list: (after?: Cursor) => Promise<Page<T>>, id: (t: T) => string) => {
        const out: string[] = [];
        let page = await list();
        for (;;) {
          out.push(...page.items.map(id));
          if (!page.next) return out;
          page = await list(page.next);
        }
      };
      expect(
        await walk(
          (after) => store.listUsers(S, { page: 1, perPage: 2, q: 'odd', after }),
          (u) => u.id,
        ),
      ).toEqual(['u1', 'u3', 'u5']);
      expect(
        await walk(
          (after) => store.listAccounts(S, { page: 1, perPage: 2, sort: '-mrr_cents', after }),
          (a) => a.key,
        ),
      ).toEqual(['k5', 'k2', 'k4', 'k1', 'k3', 'k0']);
      expect(
        await walk(
          (after) => store.listAccounts(S, { page: 1, perPage: 4, after }),
          (a) => a.key,
        ),
      ).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
      expect(
        await walk(
          (after) => store.listFeedback(S, { page: 1, perPage: 4, after }),
          (f) => f.id,
        ),
      ).toEqual(['f5', 'f4', 'f3', 'f2', 'f1', 'f0']);
      expect((await store.listFeedback(S, { page: 2, perPage: 3 })).next).toBeNull();
    });

    it('filters users by text, account, type, tag and change time, combined with AND', async () => {
      await store.putUser(user('u1', 'ann@acme.test', { name: 'Ann', updated_at: 10 }));
      await store.putUser(user('u2', 'bob@beta.test', { updated_at: 10 }));
      await store.putUser(user('u3', 'cat@acme.test', { name: 'Cat', updated_at: 50 }));
      await store.putExternalUser(eu('e1', 'u1', { account: 'acme', type: 'Owner', tags: ['vip', 'beta'] }));
      await store.putExternalUser(eu('e2', 'u2', { account: 'beta', name: 'Robert Smith' }, { updated_at: 40 }));
      await store.putExternalUser(eu('e3', 'u3', { account: 'acme', type: 'Member', tags: 'vip' }));
      const q = async (filter: Record<string, unknown>) => {
        const page = await store.listUsers(S, { page: 1, perPage: 10, ...filter });
        expect(page.total).toBe(page.items.length);
        return ids(page.items);
      };
      expect(await q({ q: 'ACME' })).toEqual(['u1', 'u3']);
      expect(await q({ q: 'an' })).toEqual(['u1']);
      expect(await q({ account: 'acme' })).toEqual(['u1', 'u3']);
      expect(await q({ type: 'Owner' })).toEqual(['u1']);
      expect(await q({ tag: 'vip' })).toEqual(['u1']);
      expect(await q({ updatedAfter: 30 })).toEqual(['u2', 'u3']);
      expect(await q({ account: 'acme', updatedAfter: 30 })).toEqual(['u3']);
      expect(await q({ account: 'acme', q: 'cat', sort: '-created_at' })).toEqual(['u3']);
      expect(await q({ account: 'none' })).toEqual([]);
    });

    it('attaches external users to users, lists them in creation order, and deletes them', async () => {
      await store.putUser(user('u1', 'ann@acme.test'));
      await store.putExternalUser(eu('e2', 'u1', { name: 'A' }));
      await store.putExternalUser(eu('e1', 'u1', { name: 'B' }));
      await store.putExternalUser(eu('e2', 'u1', { name: 'C' }));
      await store.putExternalUser({ ...eu('e1', 'u1'), site: T });
      expect((await store.externalUsersOf(S, 'u1')).map((e) => [e.external_id, e.profile.f.name])).toEqual([
        ['e2', 'C'],
        ['e1', 'B'],
      ]);
      expect(await store.getExternalUser(S, 'e1')).toEqual(eu('e1', 'u1', { name: 'B' }));
      await store.deleteExternalUser(S, 'e2');
      expect((await store.externalUsersOf(S, 'u1')).map((e) => e.external_id)).toEqual(['e1']);
      expect(await store.getExternalUser(S, 'e2')).toBeUndefined();
      expect(await store.externalUsersOf(S, 'nobody')).toEqual([]);
    });

    it('pages and sorts accounts, and counts their users and feedback', async () => {
      await store.putAccount(account('k2', { name: 'Beta', mrr_cents: 500, ltv_cents: 10 }, { created_at: 3 }));
      await store.putAccount(account('k1', { name: 'alpha', mrr_cents: 900 }, { created_at: 2 }));
      await store.putAccount(account('k3', {}, { created_at: 1 }));
      await store.putAccount(account('k2', { name: 'Beta', mrr_cents: 100, ltv_cents: 10 }, { created_at: 3 }));
      const order = async (sort?: string) =>
        ids(
          (await store.listAccounts(S, { page: 1, perPage: 10, sort: sort as never })).items.map((a) => ({
            id: a.key,
          })),
        );
      expect(await order()).toEqual(['k2', 'k1', 'k3']);
      expect(await order('created_at')).toEqual(['k3', 'k1', 'k2']);
      expect(await order('-created_at')).toEqual(['k2', 'k1', 'k3']);
      expect(await order('name')).toEqual(['k3', 'k1', 'k2']);
      expect(await order('-name')).toEqual(['k2', 'k1', 'k3']);
      expect(await order('mrr_cents')).toEqual(['k3', 'k2', 'k1']);
      expect(await order('-mrr_cents')).toEqual(['k1', 'k2', 'k3']);
      expect(await order('ltv_cents')).toEqual(['k1', 'k3', 'k2']);
      expect(await order('-ltv_cents')).toEqual(['k2', 'k3', 'k1']);
      const page2 = await store.listAccounts(S, { page: 2, perPage: 2 });
      expect([page2.total, page2.items.map((a) => a.key)]).toEqual([3, ['k3']]);
      expect((await store.getAccount(S, 'k2'))!.profile.f.mrr_cents).toBe(100);

      await store.putExternalUser(eu('e1', 'u1', { account: 'k1' }));
      await store.putExternalUser(eu('e2', 'u2', { account: 'k1' }));
      await store.putExternalUser(eu('e3', 'u3', { account: 'k2' }));
      await store.putFeedback(feedbackRow(1, { account_key: 'k1' }), null);
      expect(await store.accountCounts(S, 'k1')).toEqual({ users_count: 2, feedback_count: 1 });
      expect(await store.accountCounts(S, 'k3')).toEqual({ users_count: 0, feedback_count: 0 });
      await store.deleteAccount(S, 'k1');
      expect(await store.getAccount(S, 'k1')).toBeUndefined();
      expect((await store.listAccounts(S, { page: 1, perPage: 10 })).total).toBe(2);
    });

    it('counts and filters a person under every account they are linked to, and the account they act in', async () => {
      await store.putUser(user('u1', 'ann@acme.test'));
      await store.putUser(user('u2', 'bob@beta.test'));
      await store.putUser(user('u3', 'cat@acme.test'));
      // Ann acts in k1 and is linked to k2 as well; Bob's record predates links (only `account`).
      await store.putExternalUser(eu('e1', 'u1', { account: 'k1', 'account:k1': true, 'account:k2': true }));
      await store.putExternalUser(eu('e2', 'u2', { account: 'k2' }));
      await store.putExternalUser(eu('e3', 'u3', { 'account:k3': true }));
      expect(await store.accountCounts(S, 'k1')).toEqual({ users_count: 1, feedback_count: 0 });
      expect(await store.accountCounts(S, 'k2')).toEqual({ users_count: 2, feedback_count: 0 });
      expect(await store.accountCounts(S, 'k3')).toEqual({ users_count: 1, feedback_count: 0 });
      const users = async (account: string) => {
        const page = await store.listUsers(S, { page: 1, perPage: 10, account });
        expect(page.total).toBe(page.items.length);
        return ids(page.items);
      };
      expect(await users('k2')).toEqual(['u1', 'u2']);
      expect(await users('k3')).toEqual(['u3']);
      const externals = async (account: string) => {
        const page = await store.listExternalUsers(S, { page: 1, perPage: 10, account });
        expect(page.total).toBe(page.items.length);
        return page.items.map((e) => e.external_id);
      };
      expect(await externals('k2')).toEqual(['e1', 'e2']);
      expect(await externals('k1')).toEqual(['e1']);
      // A new link counts at once; a deleted external user stops counting everywhere.
      await store.putExternalUser(eu('e2', 'u2', { account: 'k2', 'account:k2': true, 'account:k1': true }));
      expect((await store.accountCounts(S, 'k1')).users_count).toBe(2);
      await store.deleteExternalUser(S, 'e1');
      expect((await store.accountCounts(S, 'k1')).users_count).toBe(1);
      expect((await store.accountCounts(S, 'k2')).users_count).toBe(1);
      expect(await externals('k2')).toEqual(['e2']);
    });

    it('keeps pending identities and pending accounts apart from visible records', async () => {
      await store.putPending(pending('p1', 'ann@acme.test'));
      await store.putPending(pending('p2', 'bob@acme.test'));
      await store.putPending(pending('p3', 'ann@acme.test'));
      expect(await store.pendingIdsByEmail(S, 'ann@acme.test')).toEqual(['p1', 'p3']);
      expect(await store.pendingIdsByEmail(T, 'ann@acme.test')).toEqual([]);
      expect(await store.getPending(S, 'p2')).toEqual(pending('p2', 'bob@acme.test'));
      await store.deletePending(S, 'p1');
      expect(await store.getPending(S, 'p1')).toBeUndefined();
      expect((await store.listUsers(S, { page: 1, perPage: 10 })).total).toBe(0);

      const held = {
        site: S,
        key: 'acme',
        external_id: 'acme',
        profile: { f: { mrr_cents: 5 }, v: { mrr_cents: [0, 1, 'm'] } },
        updated_at: 3,
      };
      await store.putPendingAccount(held as never);
      expect(await store.getPendingAccount(S, 'acme')).toEqual(held);
      expect(await store.getAccount(S, 'acme')).toBeUndefined();
      await store.deletePendingAccount(S, 'acme');
      expect(await store.getPendingAccount(S, 'acme')).toBeUndefined();
      expect((await store.counts(S)).pending_identities).toBe(2);
    });

    it('prunes pending identities by age, then the oldest beyond the per-site maximum, and aged pending accounts', async () => {
      for (let i = 0; i < 6; i++) await store.putPending(pending(`p${i}`, `p${i}@x.test`, 100 + i));
      await store.putPending({ ...pending('t1', 't@x.test', 50), site: T });
      const held = (site: string, key: string, updated_at: number) => ({
        site,
        key,
        external_id: key,
        profile: { f: { mrr_cents: 500 }, v: { mrr_cents: [0, 1, 'm'] as [number, number, string] } },
        updated_at,
      });
      await store.putPendingAccount(held(S, 'aged', 101));
      await store.putPendingAccount(held(S, 'fresh', 102));
      await store.putPendingAccount(held(T, 'aged', 50));
      expect(await store.prunePending(102, 3)).toBe(4);
      expect((await store.counts(S)).pending_identities).toBe(3);
      expect(await store.getPending(S, 'p2')).toBeUndefined();
      expect(await store.getPending(S, 'p3')).toBeDefined();
      expect(await store.getPending(T, 't1')).toBeUndefined();
      expect(await store.getPendingAccount(S, 'aged')).toBeUndefined();
      expect(await store.getPendingAccount(T, 'aged')).toBeUndefined();
      expect(await store.getPendingAccount(S, 'fresh')).toEqual(held(S, 'fresh', 102));
    });

    it("counts each site's records through any mix of inserts, updates and deletes", async () => {
      // A model of what each site holds, beside a fixed pseudo-random walk of writes.
      const model = new Map<string, Set<string>>();
      const mark = (kind: string, site: string, id: string, present: boolean) => {
        const key = `${kind}/${site}`;
        if (!model.has(key)) model.set(key, new Set());
        if (present) model.get(key)!.add(id);
        else model.get(key)!.delete(id);
      };
      let seed = 7;
      const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
      for (let step = 0; step < 160; step++) {
        const site = rand(2) ? S : T;
        const id = `r${rand(6)}`;
        const write = rand(3) > 0;
        switch (rand(4)) {
          case 0:
            if (write) await store.putUser({ ...user(id, `${id}@x.test`, { name: `n${step}` }), site });
            else await store.deleteUser(site, id);
            mark('users', site, id, write);
            break;
          case 1:
            if (write) await store.putPending({ ...pending(id, `${id}@x.test`, step), site });
            else await store.deletePending(site, id);
            mark('pending_identities', site, id, write);
            break;
          case 2:
            if (write) await store.putAccount({ ...account(id, { mrr_cents: step }), site });
            else await store.deleteAccount(site, id);
            mark('external_accounts', site, id, write);
            break;
          default:
            if (write) {
              await store.putExternalUser({ ...eu(id, 'u', { name: `n${step}` }), site });
              mark('external_users', site, id, true);
            } else {
              await store.putFeedback({ ...feedbackRow(step % 5), site }, null);
              mark('feedback', site, `fm${step % 5}`, true);
            }
        }
      }
      for (const site of [S, T]) {
        const size = (kind: string) => model.get(`${kind}/${site}`)?.size ?? 0;
        expect(await store.counts(site)).toEqual({
          users: size('users'),
          pending_identities: size('pending_identities'),
          external_users: size('external_users'),
          external_accounts: size('external_accounts'),
          feedback: size('feedback'),
        });
        expect((await store.listUsers(site, { page: 1, perPage: 1 })).total).toBe(size('users'));
        expect((await store.listAccounts(site, { page: 1, perPage: 1 })).total).toBe(size('external_accounts'));
        expect((await store.listFeedback(site, { page: 1, perPage: 1 })).total).toBe(size('feedback'));
      }
    });

    it('remembers applied message ids per site', async () => {
      expect(await store.hasMessage(S, 'm1')).toBe(false);
      await store.addMessage(S, 'm1', 5);
      await store.addMessage(S, 'm1', 6);
      expect(await store.hasMessage(S, 'm1')).toBe(true);
      expect(await store.hasMessage(T, 'm1')).toBe(false);
    });

    it('keeps feedback by message id, lists it newest first, and ideas in creation order', async () => {
      for (let i = 1; i <= 5; i++) await store.putFeedback(feedbackRow(i, { idea_id: i % 2 ? 'i1' : undefined }), null);
      const idea = { site: S, id: 'i1', title: 'Dark mode', created_at: 1 };
      await store.putFeedback(feedbackRow(6, { kind: 'idea', idea_id: 'i1', title: 'Dark mode' }), idea);
      await store.putFeedback(feedbackRow(7, { kind: 'idea', idea_id: 'i0' }), { ...idea, id: 'i0', title: 'Zero' });
      await store.putFeedback(feedbackRow(3, { body: 'again' }), null);
      const page = await store.listFeedback(S, { page: 1, perPage: 3 });
      expect([page.total, ids(page.items)]).toEqual([7, ['f7', 'f6', 'f5']]);
      expect(ids((await store.listFeedback(S, { page: 3, perPage: 3 })).items)).toEqual(['f1']);
      expect((await store.getFeedbackByMessage(S, 'fm3'))!.body).toBe('again');
      expect(await store.getFeedbackByMessage(T, 'fm3')).toBeUndefined();
      expect(ids(await store.feedbackForIdea(S, 'i1'))).toEqual(['f1', 'f5', 'f6']);
      expect(await store.getIdea(S, 'i1')).toEqual(idea);
      expect(ids(await store.listIdeas(S))).toEqual(['i1', 'i0']);
      expect(await store.listIdeas(T)).toEqual([]);
    });

    it('detaches a user from their feedback, clearing only the accounts named', async () => {
      await store.putFeedback(
        feedbackRow(1, { user_id: 'u1', external_user_id: 'e1', account_key: '~e1', mrr_cents_at: 5 }),
        null,
      );
      await store.putFeedback(feedbackRow(2, { user_id: 'u1', external_user_id: 'e1', account_key: 'acme' }), null);
      await store.putFeedback(feedbackRow(3, { user_id: 'u2', external_user_id: 'e2', account_key: '~e1' }), null);
      expect(await store.detachFeedback(S, 'u1', ['~e1'])).toBe(2);
      expect(await store.getFeedbackByMessage(S, 'fm1')).toEqual(
        feedbackRow(1, { user_id: null, external_user_id: null, account_key: null, mrr_cents_at: 5 }),
      );
      expect(await store.getFeedbackByMessage(S, 'fm2')).toEqual(
        feedbackRow(2, { user_id: null, external_user_id: null, account_key: 'acme' }),
      );
      expect((await store.getFeedbackByMessage(S, 'fm3'))!.user_id).toBe('u2');
      expect(await store.detachFeedback(S, 'u1', [])).toBe(0);
    });

    it('promotes atomically: user, external user, accounts and feedback in, pending out', async () => {
      await store.putPending(pending('e1', 'ann@acme.test'));
      await store.putPendingAccount({
        site: S,
        key: 'acme',
        external_id: 'acme',
        profile: { f: {}, v: {} },
        updated_at: 1,
      });
      await store.promote({
        site: S,
        user: user('u1', 'ann@acme.test'),
        externalUser: eu('e1', 'u1', { account: 'acme' }),
        accounts: [account('acme', { mrr_cents: 700 })],
        pendingAccountKeys: ['acme'],
        pendingId: 'e1',
        feedback: feedbackRow(1, {
          kind: 'idea',
          user_id: 'u1',
          external_user_id: 'e1',
          account_key: 'acme',
          mrr_cents_at: 700,
        }),
        idea: { site: S, id: 'f1', title: 'T', created_at: 1 },
      });
      expect(await store.getPending(S, 'e1')).toBeUndefined();
      expect(await store.getPendingAccount(S, 'acme')).toBeUndefined();
      expect((await store.getAccount(S, 'acme'))!.profile.f.mrr_cents).toBe(700);
      expect(await store.getIdea(S, 'f1')).toBeDefined();
      expect(await store.counts(S)).toEqual({
        users: 1,
        pending_identities: 0,
        external_users: 1,
        external_accounts: 1,
        feedback: 1,
      });
      expect(await store.counts(T)).toEqual({
        users: 0,
        pending_identities: 0,
        external_users: 0,
        external_accounts: 0,
        feedback: 0,
      });
    });

    describe('a person and their links (issue 15)', () => peopleConformance(() => store));

    describe('segments (issue 17)', () => segmentConformance(() => store));

    describe('under the core semantics (docs/API.md#identify-semantics)', () => {
      let clock = 1_000_000;
      const identity = (raw: Record<string, unknown>): Identity => identitySchema.parse(raw);
      const item = (
        raw: Record<string, unknown>,
        message_id: string,
        at = ++clock,
        rank: number = RANK.unproven,
      ): IdentifyItem => ({ message_id, version: [rank, at, message_id], identity: identity(raw) });
      const fb = (raw: Record<string, unknown>, message_id: string): FeedbackItem => {
        const at = ++clock;
        return {
          id: 'id-' + message_id,
          message_id,
          kind: 'idea',
          title: 'Dark mode',
          created_at: at,
          version: [RANK.unproven, at, message_id],
          identity: identity(raw),
        };
      };

      it('holds, promotes, updates, dedupes and never regresses, as the memory store does', async () => {
        expect(
          await applyIdentity(
            store,
            S,
            item({ id: 'u1', email: 'ann@acme.test', name: 'Ann', account: { id: 'acme', monthly_rate: 10 } }, 'm1'),
            ++clock,
          ),
        ).toBe('pending');
        expect((await store.listUsers(S, { page: 1, perPage: 20 })).total).toBe(0);
        const newer = item({ id: 'u1', email: 'ann@acme.test', name: 'Ann Newer' }, 'm3');
        const older = item({ id: 'u1', email: 'ann@acme.test', name: 'Ann Older' }, 'm2', clock - 100);
        expect(await applyIdentity(store, S, newer, ++clock)).toBe('pending');
        expect(await applyIdentity(store, S, older, ++clock)).toBe('pending');
        expect(await applyIdentity(store, S, newer, ++clock)).toBe('duplicate');

        const f = await recordFeedback(store, S, fb({ id: 'u1', email: 'ann@acme.test' }, 'fb1'));
        expect(f.account_key).toBe('acme');
        expect(f.mrr_cents_at).toBe(1000);
        expect((await recordFeedback(store, S, fb({ id: 'u1', email: 'ann@acme.test' }, 'fb1'))).id).toBe(f.id);
        expect((await store.getExternalUser(S, 'u1'))!.profile.f.name).toBe('Ann Newer');
        expect(await store.getPending(S, 'u1')).toBeUndefined();
        expect(await store.counts(S)).toEqual({
          users: 1,
          pending_identities: 0,
          external_users: 1,
          external_accounts: 1,
          feedback: 1,
        });

        expect(
          await applyIdentity(
            store,
            S,
            item({ id: 'crm-1', email: 'ann@acme.test', account: { id: 'acme', monthly_rate: 20 } }, 'm4'),
            ++clock,
          ),
        ).toBe('attached');
        expect((await store.getAccount(S, 'acme'))!.profile.f.mrr_cents).toBe(2000);
        const users = await store.listUsers(S, { page: 1, perPage: 20 });
        expect((await store.externalUsersOf(S, users.items[0].id)).map((e) => e.external_id)).toEqual(['u1', 'crm-1']);

        const erased = await eraseUser(store, S, users.items[0].id);
        expect(erased).toMatchObject({ users: 1, external_users: 2, feedback_detached: 1 });
        expect(await store.counts(S)).toMatchObject({ users: 0, external_users: 0, feedback: 1 });
      });

      it("ranks sources as the site's mode decided: newest wins in off mode, the admin API in optional", async () => {
        await recordFeedback(store, S, fb({ id: 'u1', email: 'ann@acme.test' }, 'fbr'));
        const mrr = async (key: string) => (await store.getAccount(S, key))!.profile.f.mrr_cents;
        const acme = (key: string, mrr: number) => ({
          id: 'u1',
          email: 'ann@acme.test',
          account: { id: key, mrr_cents: mrr },
        });
        for (const [n, verification, expected] of [
          [1, 'off', 9950],
          [2, 'optional', 999],
        ] as const) {
          const site = { verification };
          const key = `acme-${verification}`;
          await applyIdentity(store, S, item(acme(key, 999), `r${n}a`, clock + 1, rankFor(site, RANK.admin)), ++clock);
          await applyIdentity(
            store,
            S,
            item(acme(key, 9950), `r${n}p`, clock + 2, rankFor(site, RANK.unproven)),
            ++clock,
          );
          expect(await mrr(key)).toBe(expected);
        }
      });

      it('links a person to each of their accounts; feedback records the one they act in, and its MRR', async () => {
        const ann = (extra: Record<string, unknown>) => ({ id: 'u1', email: 'ann@acme.test', ...extra });
        // Pending first: the accounts named while pending become visible with the person.
        await applyIdentity(
          store,
          S,
          item(
            ann({ account: { id: 'acme', monthly_rate: 10 }, accounts: [{ id: 'globex', monthly_rate: 50 }] }),
            'ma1',
          ),
          ++clock,
        );
        const f1 = await recordFeedback(store, S, fb(ann({}), 'fa1'));
        expect([f1.account_key, f1.mrr_cents_at]).toEqual(['acme', 1000]);
        expect((await store.getAccount(S, 'globex'))!.profile.f.mrr_cents).toBe(5000);
        expect((await store.accountCounts(S, 'acme')).users_count).toBe(1);
        expect((await store.accountCounts(S, 'globex')).users_count).toBe(1);

        // A later identity acting in another account (a second Segment group) adds a link and switches.
        await applyIdentity(store, S, item(ann({ account: { id: 'initech', monthly_rate: 7 } }), 'ma2'), ++clock);
        const f2 = await recordFeedback(store, S, fb(ann({}), 'fa2'));
        expect([f2.account_key, f2.mrr_cents_at]).toEqual(['initech', 700]);
        // Updates to any linked account apply to it, through `accounts` as through `account`.
        await applyIdentity(store, S, item(ann({ accounts: [{ id: 'acme', monthly_rate: 12 }] }), 'ma3'), ++clock);
        expect((await store.getAccount(S, 'acme'))!.profile.f.mrr_cents).toBe(1200);
        // `accounts` alone names the acting account too: its first entry.
        expect((await store.getExternalUser(S, 'u1'))!.profile.f.account).toBe('acme');
        for (const key of ['acme', 'globex', 'initech'])
          expect((await store.accountCounts(S, key)).users_count).toBe(1);
        const listed = await store.listUsers(S, { page: 1, perPage: 10, account: 'globex' });
        expect(listed.items.map((u) => u.email)).toEqual(['ann@acme.test']);

        // Erasing Ann keeps the shared accounts and their feedback, and counts her nowhere.
        const user = (await store.getUserByEmail(S, 'ann@acme.test'))!;
        expect(await eraseUser(store, S, user.id)).toMatchObject({ users: 1, external_users: 1, accounts: 0 });
        for (const key of ['acme', 'globex', 'initech']) {
          expect(await store.getAccount(S, key)).toBeDefined();
          expect((await store.accountCounts(S, key)).users_count).toBe(0);
        }
        expect((await store.accountCounts(S, 'initech')).feedback_count).toBe(1);
      });

      it('keeps an identity whose email is only a claim pending, until one of its id proves the email', async () => {
        await recordFeedback(store, S, fb({ id: 'exec-1', email: 'exec@big.test', name: 'Exec' }, 'fbx'));
        const claim: IdentifyItem = {
          ...item({ id: 'user-9', email: 'exec@big.test', name: 'Someone Else' }, 'mc1', ++clock, RANK.user_hash),
          email_claim: true,
        };
        expect(await applyIdentity(store, S, claim, ++clock)).toBe('pending');
        const exec = (await store.getUserByEmail(S, 'exec@big.test'))!;
        expect(exec.name).toBe('Exec');
        expect((await store.externalUsersOf(S, exec.id)).map((e) => e.external_id)).toEqual(['exec-1']);
        expect((await store.getPending(S, 'user-9'))!.profile.f.name).toBe('Someone Else');
        const proven = item({ id: 'user-9', email: 'exec@big.test' }, 'mc2', ++clock, RANK.token);
        expect(await applyIdentity(store, S, proven, ++clock)).toBe('attached');
        expect((await store.externalUsersOf(S, exec.id)).map((e) => e.external_id)).toEqual(['exec-1', 'user-9']);
        expect(await store.getPending(S, 'user-9')).toBeUndefined();
      });
    });
  });
}
