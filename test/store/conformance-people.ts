/**
 * Conformance cases for a person's page and re-linking (issue 15), part of the store
 * conformance suite (conformance.ts calls them, so each engine runs them): external user
 * listings, one user's feedback, moving an external user and its feedback to another user —
 * as Store calls, then through the core (re-link, admin feedback) and the semantics that must
 * hold after.
 */
import { expect, it } from 'vitest';
import { identitySchema } from '../../shared/identity.ts';
import { importUserSchema } from '../../shared/imports.ts';
import { recordAdminFeedback } from '../../server/core/admin-feedback.ts';
import type { FeedbackItem } from '../../server/core/feedback.ts';
import { applyIdentity } from '../../server/core/identify.ts';
import { importUsers } from '../../server/core/imports.ts';
import { RANK } from '../../server/core/merge.ts';
import type { ExternalUser, Feedback, User } from '../../server/core/records.ts';
import { relinkExternalUser } from '../../server/core/relink.ts';
import type { Cursor, Page, Store } from '../../server/core/store.ts';

const S = 'site-a';
const T = 'site-b';

const user = (id: string, email: string): User => ({ site: S, id, email, created_at: 10, updated_at: 10 });
const eu = (external_id: string, user_id: string, account?: string): ExternalUser => ({
  site: S,
  external_id,
  user_id,
  profile: { f: { email: `${external_id}@x.test`, ...(account ? { account } : {}) }, v: {} },
  created_at: 10,
  updated_at: 10,
});
const fb = (n: number, extra: Partial<Feedback> = {}): Feedback => ({
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

async function walk<T>(list: (after?: Cursor) => Promise<Page<T>>, id: (t: T) => string): Promise<string[]> {
  const out: string[] = [];
  let page = await list();
  for (;;) {
    out.push(...page.items.map(id));
    if (!page.next) return out;
    page = await list(page.next);
  }
}

/** The cases; `store()` is the store under test in the current case. */
export function peopleConformance(store: () => Store): void {
  it('lists external users in creation order, by user and by account, paged by cursor', async () => {
    const s = store();
    for (let i = 0; i < 7; i++) await s.putExternalUser(eu(`e${i}`, i % 2 ? 'u1' : 'u2', i < 4 ? 'acme' : 'beta'));
    await s.putExternalUser({ ...eu('e0', 'u9'), site: T });
    await s.putExternalUser({ ...eu('e3', 'u1', 'acme'), updated_at: 99 }); // an update keeps its place
    const all = (q: object) =>
      walk(
        (after) => s.listExternalUsers(S, { page: 1, perPage: 2, after, ...q }),
        (e) => e.external_id,
      );
    expect(await all({})).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
    expect(await all({ userId: 'u1' })).toEqual(['e1', 'e3', 'e5']);
    expect(await all({ account: 'acme' })).toEqual(['e0', 'e1', 'e2', 'e3']);
    expect(await all({ userId: 'u1', account: 'beta' })).toEqual(['e5']);
    expect(await all({ userId: 'nobody' })).toEqual([]);
    expect((await s.listExternalUsers(S, { page: 1, perPage: 2 })).total).toBe(7);
    expect(
      (await s.listExternalUsers(S, { page: 2, perPage: 2, userId: 'u1' })).items.map((e) => e.external_id),
    ).toEqual(['e5']);
    expect((await s.listExternalUsers(S, { page: 1, perPage: 1, account: 'beta' })).total).toBe(3);
  });

  it("pages one user's feedback newest first by its time, ties by message id, with totals", async () => {
    const s = store();
    await s.putFeedback(fb(1, { user_id: 'u1', created_at: 500 }), null);
    await s.putFeedback(fb(2, { user_id: 'u2', created_at: 600 }), null);
    await s.putFeedback(fb(3, { user_id: 'u1', created_at: 100 }), null); // back-dated history, recorded later
    await s.putFeedback(fb(4, { user_id: 'u1', created_at: 500 }), null);
    await s.putFeedback(fb(5, { user_id: 'u1', created_at: 900 }), null);
    await s.putFeedback({ ...fb(6, { user_id: 'u1', created_at: 999 }), site: T }, null);
    const walked = await walk(
      (after) => s.listUserFeedback(S, { page: 1, perPage: 2, userId: 'u1', after }),
      (f) => f.id,
    );
    expect(walked).toEqual(['f5', 'f4', 'f1', 'f3']);
    const second = await s.listUserFeedback(S, { page: 2, perPage: 3, userId: 'u1' });
    expect([second.total, second.items.map((f) => f.id), second.next]).toEqual([4, ['f3'], null]);
    expect((await s.listUserFeedback(S, { page: 1, perPage: 3, userId: 'nobody' })).total).toBe(0);
  });

  it('moves an external user to another user: its lists, filters and feedback follow it', async () => {
    const s = store();
    await s.putUser(user('u1', 'one@x.test'));
    await s.putUser(user('u2', 'two@x.test'));
    await s.putExternalUser(eu('e1', 'u1', 'acme'));
    await s.putExternalUser(eu('e2', 'u1'));
    await s.putExternalUser(eu('e3', 'u2'));
    await s.putFeedback(fb(1, { user_id: 'u1', external_user_id: 'e1' }), null);
    await s.putFeedback(fb(2, { user_id: 'u1', external_user_id: 'e2' }), null);
    await s.putFeedback(fb(3, { user_id: 'u1', external_user_id: null }), null);

    await s.putExternalUser({ ...eu('e1', 'u2', 'acme'), updated_at: 20 });
    expect(await s.moveFeedback(S, 'e1', 'u1', 'u2')).toBe(1);
    expect(await s.moveFeedback(T, 'e1', 'u1', 'u2')).toBe(0);

    expect((await s.externalUsersOf(S, 'u1')).map((e) => e.external_id)).toEqual(['e2']);
    // Creation order, wherever it moved: e1 came before e3.
    expect((await s.externalUsersOf(S, 'u2')).map((e) => e.external_id)).toEqual(['e1', 'e3']);
    const of = async (userId: string) =>
      (await s.listExternalUsers(S, { page: 1, perPage: 10, userId })).items.map((e) => e.external_id);
    expect([await of('u1'), await of('u2')]).toEqual([['e2'], ['e1', 'e3']]);
    expect((await s.listUsers(S, { page: 1, perPage: 10, account: 'acme' })).items.map((u) => u.id)).toEqual(['u2']);
    expect((await s.getFeedbackByMessage(S, 'fm1'))!.user_id).toBe('u2');
    const feedbackOf = async (userId: string) =>
      (await s.listUserFeedback(S, { page: 1, perPage: 10, userId })).items.map((f) => f.id).sort();
    expect([await feedbackOf('u1'), await feedbackOf('u2')]).toEqual([['f2', 'f3'], ['f1']]);
    expect(await s.accountCounts(S, 'acme')).toEqual({ users_count: 1, feedback_count: 0 });
    expect((await s.counts(S)).external_users).toBe(3);
  });

  const identity = (raw: Record<string, unknown>) => identitySchema.parse(raw);
  const admin = (at: number, mid: string) => [RANK.admin, at, `0000:t`, mid] as [number, number, string, string];

  it('re-links through the core: the move survives later identifies, imports and feedback with a new email', async () => {
    const s = store();
    await applyIdentity(
      s,
      S,
      { message_id: 'i1', version: [RANK.unproven, 1, 'i1'], identity: identity({ id: 'crm-1', email: 'a@x.test' }) },
      1,
    );
    await importUsers(
      s,
      S,
      [
        importUserSchema.parse({ external_id: 'crm-2', email: 'b@x.test' }),
        importUserSchema.parse({ external_id: 'crm-1', email: 'a@x.test' }),
      ],
      2,
    );
    const a = (await s.getUserByEmail(S, 'a@x.test'))!;
    const b = (await s.getUserByEmail(S, 'b@x.test'))!;
    const moved = await relinkExternalUser(s, S, 'crm-1', b.id, 3);
    expect(moved).toMatchObject({ previous: { id: a.id, deleted: true }, feedbackMoved: 0 });
    // Nothing was left on the old user, so it is gone.
    expect(await s.getUser(S, a.id)).toBeUndefined();
    expect(await relinkExternalUser(s, S, 'nobody', b.id, 4)).toEqual({ missing: 'external_id' });
    expect(await relinkExternalUser(s, S, 'crm-1', 'u_nobody', 4)).toEqual({ missing: 'user_id' });

    await applyIdentity(
      s,
      S,
      { message_id: 'i2', version: [RANK.unproven, 5, 'i2'], identity: identity({ id: 'crm-1', email: 'c@x.test' }) },
      5,
    );
    await importUsers(s, S, [importUserSchema.parse({ external_id: 'crm-1', email: 'd@x.test' })], 6);
    const item: FeedbackItem = {
      id: 'fb1',
      message_id: 'fbm1',
      kind: 'comment',
      body: 'hi',
      created_at: 7,
      version: admin(7, 'fbm1'),
      identity: identity({ id: 'crm-1', email: 'e@x.test' }),
    };
    const done = await recordAdminFeedback(s, S, [item]);
    expect(done).toMatchObject({ feedback: [{ user_id: b.id, external_user_id: 'crm-1' }] });
    expect((await s.getExternalUser(S, 'crm-1'))!).toMatchObject({
      user_id: b.id,
      profile: { f: { email: 'e@x.test' } },
    });
    // The import created crm-2 first (crm-1 was pending until its record, the second).
    expect((await s.externalUsersOf(S, b.id)).map((e) => e.external_id)).toEqual(['crm-2', 'crm-1']);
    expect((await s.counts(S)).users).toBe(1);
  });

  it('keeps the user a re-link leaves when it still has feedback of its own, and moves what the external user gave', async () => {
    const s = store();
    await s.putUser(user('u1', 'one@x.test'));
    await s.putUser(user('u2', 'two@x.test'));
    await s.putExternalUser(eu('e1', 'u1'));
    await s.putFeedback(fb(1, { user_id: 'u1', external_user_id: 'e1' }), null);
    await s.putFeedback(fb(2, { user_id: 'u1' }), null); // given with only an email
    const done = await relinkExternalUser(s, S, 'e1', 'u2', 50);
    expect(done).toMatchObject({ previous: { id: 'u1', deleted: false }, feedbackMoved: 1 });
    expect((await s.getUser(S, 'u1'))!.updated_at).toBe(50);
    expect((await s.getUser(S, 'u2'))!.updated_at).toBe(50);
    expect((await relinkExternalUser(s, S, 'e1', 'u2', 60)) as object).toMatchObject({ feedbackMoved: 0 });
  });

  it('records admin feedback for people named by external id, user id and email, promoting the pending', async () => {
    const s = store();
    await applyIdentity(
      s,
      S,
      {
        message_id: 'p1',
        version: [RANK.unproven, 1, 'p1'],
        identity: identity({ id: 'pend-1', email: 'pend@x.test', account: { id: 'acme', mrr_cents: 4200 } }),
      },
      1,
    );
    await applyIdentity(
      s,
      S,
      {
        message_id: 'p2',
        version: [RANK.unproven, 2, 'p2'],
        identity: identity({ id: 'pend-2', email: 'mail@x.test' }),
      },
      2,
    );
    const base = (n: number): FeedbackItem => ({
      id: `af${n}`,
      message_id: `afm${n}`,
      kind: 'nps',
      score: n,
      created_at: 1000 + n,
      recorded_at: 5000,
      source: 'support',
      version: admin(5000, `afm${n}`),
    });
    const missing = await recordAdminFeedback(s, S, [
      { ...base(1), external_id: 'pend-1' },
      { ...base(2), user_id: 'u_nobody' },
      { ...base(3), external_id: 'nobody', idea_id: 'no-idea' },
    ]);
    expect(missing).toEqual({
      missing: [
        { index: 1, field: 'user_id', message: expect.any(String) },
        { index: 2, field: 'external_id', message: expect.any(String) },
        { index: 2, field: 'idea_id', message: expect.any(String) },
      ],
    });
    // All or nothing: the valid first item was not recorded either.
    expect(await s.counts(S)).toMatchObject({ users: 0, pending_identities: 2, feedback: 0 });

    const done = await recordAdminFeedback(s, S, [
      { ...base(1), external_id: 'pend-1' },
      { ...base(2), email: 'mail@x.test' },
      { ...base(3), email: 'new@x.test' },
    ]);
    if (!('feedback' in done)) throw new Error('expected feedback');
    const [one, two, three] = done.feedback;
    expect(one).toMatchObject({
      external_user_id: 'pend-1',
      account_key: 'acme',
      mrr_cents_at: 4200,
      source: 'support',
    });
    expect(one.created_at).toBe(1001);
    expect(two).toMatchObject({ external_user_id: 'pend-2' });
    expect(three).toMatchObject({ external_user_id: null, user_id: expect.stringMatching(/^u_/) });
    expect(await s.counts(S)).toMatchObject({ users: 3, pending_identities: 0, external_users: 2, feedback: 3 });
    // A person promoted now was not created in the past: only the feedback is back-dated.
    expect((await s.getUser(S, one.user_id!))!.created_at).toBe(5000);

    const byUser = await recordAdminFeedback(s, S, [{ ...base(4), user_id: one.user_id! }]);
    expect(byUser).toMatchObject({ feedback: [{ external_user_id: 'pend-1', mrr_cents_at: 4200 }] });
    const again = await recordAdminFeedback(s, S, [{ ...base(4), user_id: 'u_gone' }]);
    expect(again).toMatchObject({ feedback: [{ id: 'af4' }] });
  });
}
