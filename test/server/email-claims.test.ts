/**
 * A user_hash proves an id, never an email (docs/API.md#trust). In `optional` and `required` mode
 * an email no proof covers is a claim: it must not attach a new id to the person whose email a
 * stronger source (a token, the admin API) established, must not change that person, and feedback
 * sent with it is recorded anonymously. In `off` mode the site believes its pages and the claim
 * attaches as any identify does. Real HTTP; the reproduction in every mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedSite } from '../../server/sites.ts';
import { signIdentityToken, userHash } from '../../server/sign.ts';
import { startCollector, type TestCollector } from '../helpers/collector.ts';
import { addSite, admin, feedback, identify, stored } from '../helpers/hostile.ts';

let c: TestCollector;
let required: CreatedSite;
let optional: CreatedSite;
beforeAll(async () => {
  c = await startCollector();
  required = await addSite(c, 'required');
  optional = await addSite(c, 'optional');
});
afterAll(async () => {
  await c.stop();
});

const EXEC = 'exec@bigcorp.test';

/** The person with `email` as the admin API lists them: user, external ids, feedback scores. */
async function person(site: { key: string; admin: string }, email: string) {
  await stored(c, site.key);
  const users = await admin(c, 'GET', '/users?per_page=100', undefined, site.admin);
  const user = users.json.users.find((u: any) => u.email === email);
  const list = await admin(c, 'GET', '/feedback?per_page=100', undefined, site.admin);
  const scores = list.json.feedback.filter((f: any) => f.user?.id === user?.id).map((f: any) => f.score);
  return { name: user?.name, external_ids: user?.links.external_users, scores: scores.sort() };
}

/** The executive: verified by a token, visible, with one NPS score of 10. */
async function verifiedExec(s: CreatedSite) {
  const identity_token = await signIdentityToken(s.identity_secret, { id: 'exec-1', email: EXEC, name: 'Exec One' });
  expect((await identify(c, s.site_key, [{ email: EXEC, identity_token }])).status).toBe(202);
  await stored(c, s.site_key);
  const res = await feedback(c, s.site_key, { kind: 'nps', score: 10, identity: { email: EXEC, identity_token } });
  expect(res.status).toBe(201);
  const site = { key: s.site_key, admin: s.admin_key };
  expect(await person(site, EXEC)).toEqual({ name: 'Exec One', external_ids: ['exec-1'], scores: [10] });
  return site;
}

describe.each([
  ['required', () => required],
  ['optional', () => optional],
] as const)('%s mode: an id proven by user_hash with the email of a token-verified person', (_mode, s) => {
  const impostor = () => ({
    id: 'user-9',
    email: EXEC,
    name: 'Someone Else',
    user_hash: userHash(s().identity_secret, 'user-9'),
  });

  it('gives feedback that is recorded anonymously, and changes nothing of theirs', async () => {
    const site = await verifiedExec(s());
    const res = await feedback(c, site.key, { kind: 'nps', score: 1, identity: impostor() });
    expect(res.status).toBe(201);
    expect(await person(site, EXEC)).toEqual({ name: 'Exec One', external_ids: ['exec-1'], scores: [10] });
    const list = await admin(c, 'GET', '/feedback?per_page=100', undefined, site.admin);
    expect(list.json.feedback.find((f: any) => f.score === 1)).toMatchObject({ user: null, external_user: null });
  });

  it('identifies without attaching to them: the id waits pending', async () => {
    const site = { key: s().site_key, admin: s().admin_key };
    expect((await identify(c, site.key, [impostor()])).status).toBe(202);
    expect(await person(site, EXEC)).toEqual({ name: 'Exec One', external_ids: ['exec-1'], scores: [10] });
    expect(await c.collector.store.getExternalUser(site.key, 'user-9')).toBeUndefined();
    expect((await c.collector.store.getPending(site.key, 'user-9'))?.profile.f.name).toBe('Someone Else');
  });
});

describe('required mode: an id that claimed an email before a token established it', () => {
  it('stays attached, but no longer speaks for the person: its feedback is anonymous', async () => {
    const site = { key: required.site_key, admin: required.admin_key };
    const email = 'ceo@bigcorp.test';
    const early = (mail: string) => ({
      id: 'user-12',
      email: mail,
      name: 'Someone Else',
      user_hash: userHash(required.identity_secret, 'user-12'),
    });
    expect((await feedback(c, site.key, { kind: 'nps', score: 3, identity: early(email) })).status).toBe(201);
    const identity_token = await signIdentityToken(required.identity_secret, { id: 'ceo-1', email, name: 'Ceo One' });
    expect((await identify(c, site.key, [{ email, identity_token }])).status).toBe(202);
    await stored(c, site.key);
    const res = await feedback(c, site.key, { kind: 'nps', score: 4, identity: { email, identity_token } });
    expect(res.status).toBe(201);
    expect(await person(site, email)).toEqual({ name: 'Ceo One', external_ids: ['user-12', 'ceo-1'], scores: [3, 4] });
    for (const [score, mail] of [
      [5, email],
      [6, 'someone@else.test'],
    ] as const) {
      expect((await feedback(c, site.key, { kind: 'nps', score, identity: early(mail) })).status).toBe(201);
    }
    expect(await person(site, email)).toEqual({ name: 'Ceo One', external_ids: ['user-12', 'ceo-1'], scores: [3, 4] });
  });
});

describe('optional mode', () => {
  it('keeps an admin-imported person from a user_hash claim to their email, and from an unproven one', async () => {
    const site = { key: optional.site_key, admin: optional.admin_key };
    const email = 'cfo@bigcorp.test';
    const imported = await admin(
      c,
      'POST',
      '/external_users/import',
      { users: [{ external_id: 'cfo-1', email, name: 'Cfo One' }] },
      site.admin,
    );
    expect(imported.status).toBe(200);
    const claims = [
      { id: 'user-10', email, name: 'Claimant', user_hash: userHash(optional.identity_secret, 'user-10') },
      { id: 'user-11', email, name: 'Claimant' },
    ];
    for (const [i, identity] of claims.entries()) {
      expect((await identify(c, site.key, [identity])).status).toBe(202);
      expect((await feedback(c, site.key, { kind: 'nps', score: 2 + i, identity })).status).toBe(201);
    }
    expect(await person(site, email)).toEqual({ name: 'Cfo One', external_ids: ['cfo-1'], scores: [] });
  });

  it('attaches a user_hash claim to a person whose email no stronger source established', async () => {
    const site = { key: optional.site_key, admin: optional.admin_key };
    const email = 'peer@bigcorp.test';
    const first = { id: 'peer-1', email, name: 'Peer', user_hash: userHash(optional.identity_secret, 'peer-1') };
    expect((await feedback(c, site.key, { kind: 'nps', score: 5, identity: first })).status).toBe(201);
    const second = { id: 'peer-2', email, name: 'Peer Two', user_hash: userHash(optional.identity_secret, 'peer-2') };
    expect((await feedback(c, site.key, { kind: 'nps', score: 6, identity: second })).status).toBe(201);
    expect(await person(site, email)).toEqual({ name: 'Peer Two', external_ids: ['peer-1', 'peer-2'], scores: [5, 6] });
  });
});

describe('off mode: the site believes its pages', () => {
  it("attaches the claimed email's id to the person and attributes its feedback to them", async () => {
    const site = { key: c.siteKey, admin: c.adminKey };
    const token = await signIdentityToken('ignored-in-off-mode', { id: 'exec-1', email: EXEC, name: 'Exec One' });
    expect(
      (await feedback(c, site.key, { kind: 'nps', score: 10, identity: { email: EXEC, identity_token: token } }))
        .status,
    ).toBe(201);
    const res = await feedback(c, site.key, {
      kind: 'nps',
      score: 1,
      identity: { id: 'user-9', email: EXEC, name: 'Someone Else', user_hash: 'ab'.repeat(32) },
    });
    expect(res.status).toBe(201);
    expect(await person(site, EXEC)).toEqual({
      name: 'Someone Else',
      external_ids: [EXEC, 'user-9'],
      scores: [1, 10],
    });
  });
});
