/**
 * Trust (docs/API.md#trust) through real HTTP: identity proofs, verification modes, trust-ranked
 * merges, attribution of feedback, secret rotation, and admin authentication.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addIdentitySecret, removeOldIdentitySecret, type CreatedSite } from '../../server/sites.ts';
import { signIdentityToken, userHash } from '../../server/sign.ts';
import { RANK } from '../../server/core/merge.ts';
import { sourceOf } from '../../server/trust/ranks.ts';
import { startCollector, type TestCollector } from '../helpers/collector.ts';
import { addSite, admin, feedback, identify, stored } from '../helpers/hostile.ts';

let c: TestCollector;
let optional: CreatedSite;
let required: CreatedSite;
let other: CreatedSite;
beforeAll(async () => {
  c = await startCollector();
  optional = await addSite(c, 'optional');
  required = await addSite(c, 'required');
  other = await addSite(c, 'optional');
});
afterAll(async () => {
  await c.stop();
});

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);
const pending = (site: string, id: string) => c.collector.store.getPending(site, id);
const heldMrr = async (site: string, key: string) =>
  (await c.collector.store.getPendingAccount(site, key))?.profile.f.mrr_cents;

/** Sends one identity and expects it refused with 401 naming `field`, and nothing stored. */
async function expectRefused(site: string, identity: object, field: string) {
  const before = await stored(c, site);
  const res = await identify(c, site, [identity]);
  expect(res.status).toBe(401);
  expect(res.json.errors.type).toBe('unauthorized');
  expect(res.json.errors.details[0].field).toBe(field);
  expect(await stored(c, site)).toEqual(before);
  return res;
}

describe('identity tokens', () => {
  it("stores a valid token's claims over the page's own fields", async () => {
    const token = await signIdentityToken(optional.identity_secret, {
      id: 'tok-1',
      email: 'real@acme.test',
      name: 'Real Name',
      account: { id: 'acme-t1', monthly_rate: 99.5 },
    });
    const res = await identify(c, optional.site_key, [
      {
        id: 'tok-1',
        email: 'fake@evil.test',
        name: 'Fake',
        account: { id: 'acme-t1', monthly_rate: 1_000_000 },
        cf_persona: 'dev',
        identity_token: token,
      },
    ]);
    expect(res.status).toBe(202);
    expect(res.json.accepted).toBe(1);
    await c.collector.intake.drained();
    const p = (await pending(optional.site_key, 'tok-1'))!;
    expect(p.profile.f).toMatchObject({ email: 'real@acme.test', name: 'Real Name', cf_persona: 'dev' });
    expect(p.profile.v.email[0]).toBe(2);
    // The page's traits are stored, but only at user_hash rank: the token proves who, not what.
    expect(p.profile.v.cf_persona[0]).toBe(1);
    expect(await heldMrr(optional.site_key, 'acme-t1')).toBe(9950);
    expect(p.profile.f).not.toHaveProperty('identity_token');
  });

  it("links the accounts a token's `accounts` claim names, at token rank over the page's", async () => {
    const token = await signIdentityToken(optional.identity_secret, {
      id: 'tok-multi',
      email: 'multi@acme.test',
      accounts: [{ id: 'multi-a', monthly_rate: 10 }],
    });
    const res = await identify(c, optional.site_key, [
      {
        id: 'tok-multi',
        email: 'multi@acme.test',
        accounts: [{ id: 'multi-a', monthly_rate: 999 }],
        identity_token: token,
      },
    ]);
    expect(res.status).toBe(202);
    await c.collector.intake.drained();
    const p = (await pending(optional.site_key, 'tok-multi'))!;
    expect(p.profile.f).toMatchObject({ account: 'multi-a', 'account:multi-a': true });
    expect(p.profile.v['account:multi-a'][0]).toBe(2);
    expect(await heldMrr(optional.site_key, 'multi-a')).toBe(1000);
  });

  it("uses the token's sub as the id whatever the page says", async () => {
    const token = await signIdentityToken(optional.identity_secret, { id: 'tok-sub', email: 'sub@acme.test' });
    expect(
      (await identify(c, optional.site_key, [{ id: 'someone-else', email: 'sub@acme.test', identity_token: token }]))
        .status,
    ).toBe(202);
    await c.collector.intake.drained();
    expect(await pending(optional.site_key, 'tok-sub')).toBeDefined();
    expect(await pending(optional.site_key, 'someone-else')).toBeUndefined();
  });

  it('refuses an expired token with 401 and stores nothing', async () => {
    const token = await signIdentityToken(
      optional.identity_secret,
      { id: 'tok-exp', email: 'e@acme.test' },
      { now: Date.now() - 7200_000, ttlSeconds: 3600 },
    );
    const res = await expectRefused(
      optional.site_key,
      { id: 'tok-exp', email: 'e@acme.test', identity_token: token },
      'identity_token',
    );
    expect(res.json.errors.message).toMatch(/expired/);
  });

  it('accepts a token that expired within the 60 s clock tolerance, but not one beyond it', async () => {
    const recent = await signIdentityToken(
      optional.identity_secret,
      { id: 'tok-tol', email: 't@acme.test' },
      { now: Date.now() - 3630_000, ttlSeconds: 3600 },
    );
    expect((await identify(c, optional.site_key, [{ email: 't@acme.test', identity_token: recent }])).status).toBe(202);
    const old = await signIdentityToken(
      optional.identity_secret,
      { id: 'tok-tol', email: 't@acme.test' },
      { now: Date.now() - 3700_000, ttlSeconds: 3600 },
    );
    await expectRefused(optional.site_key, { email: 't@acme.test', identity_token: old }, 'identity_token');
  });

  it("refuses a token signed with another site's secret", async () => {
    const token = await signIdentityToken(other.identity_secret, { id: 'tok-other', email: 'o@acme.test' });
    await expectRefused(
      optional.site_key,
      { id: 'tok-other', email: 'o@acme.test', identity_token: token },
      'identity_token',
    );
  });

  it('refuses an unsigned token (alg: none)', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'tok-none', email: 'n@acme.test', iat: nowS(), exp: nowS() + 600 })}.`;
    const res = await expectRefused(
      optional.site_key,
      { id: 'tok-none', email: 'n@acme.test', identity_token: token },
      'identity_token',
    );
    expect(res.json.errors.message).not.toMatch(/stack|at .*\.ts/);
  });

  it('refuses a token signed with an unknown key, whatever key id it names', async () => {
    const token = await new SignJWT({ email: 'k@acme.test' })
      .setProtectedHeader({ alg: 'HS256', kid: 'primary' })
      .setSubject('tok-kid')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('x'.repeat(64)));
    await expectRefused(
      optional.site_key,
      { id: 'tok-kid', email: 'k@acme.test', identity_token: token },
      'identity_token',
    );
  });

  it('refuses a token signed with another algorithm (HS512) even with the right secret', async () => {
    const token = await new SignJWT({ email: 'a@acme.test' })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('tok-alg')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(optional.identity_secret));
    await expectRefused(
      optional.site_key,
      { id: 'tok-alg', email: 'a@acme.test', identity_token: token },
      'identity_token',
    );
  });

  it('refuses a token without exp, and garbage in place of a token', async () => {
    const noExp = await new SignJWT({ email: 'x@acme.test' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('tok-noexp')
      .setIssuedAt()
      .sign(new TextEncoder().encode(optional.identity_secret));
    await expectRefused(
      optional.site_key,
      { id: 'tok-noexp', email: 'x@acme.test', identity_token: noExp },
      'identity_token',
    );
    await expectRefused(
      optional.site_key,
      { id: 'tok-noexp', email: 'x@acme.test', identity_token: 'not.a.jwt' },
      'identity_token',
    );
  });

  it('refuses a validly signed token whose claims are not a valid identity, naming the claim', async () => {
    const token = await new SignJWT({ email: 'not-an-email' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('tok-bad')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(optional.identity_secret));
    await expectRefused(
      optional.site_key,
      { id: 'tok-bad', email: 'b@acme.test', identity_token: token },
      'identity_token.email',
    );
  });

  it('never lets a replayed older token roll a field back', async () => {
    const claims = (mrr: number) => ({
      id: 'tok-replay',
      email: 'r@acme.test',
      account: { id: 'acme-replay', monthly_rate: mrr },
    });
    const older = await signIdentityToken(optional.identity_secret, claims(10), { now: Date.now() - 600_000 });
    const newer = await signIdentityToken(optional.identity_secret, claims(20), { now: Date.now() - 60_000 });
    expect((await identify(c, optional.site_key, [{ email: 'r@acme.test', identity_token: newer }])).status).toBe(202);
    expect((await identify(c, optional.site_key, [{ email: 'r@acme.test', identity_token: older }])).status).toBe(202);
    await c.collector.intake.drained();
    expect(await heldMrr(optional.site_key, 'acme-replay')).toBe(2000);
  });

  it('accepts tokens signed with either secret during a rotation, and only the new one after', async () => {
    const site = await addSite(c, 'optional');
    const { identity_secret: fresh } = await addIdentitySecret(c.collector.store, site.site_key);
    const withOld = await signIdentityToken(site.identity_secret, { id: 'rot', email: 'rot@acme.test' });
    const withNew = await signIdentityToken(fresh, { id: 'rot', email: 'rot@acme.test' });
    expect((await identify(c, site.site_key, [{ email: 'rot@acme.test', identity_token: withOld }])).status).toBe(202);
    expect((await identify(c, site.site_key, [{ email: 'rot@acme.test', identity_token: withNew }])).status).toBe(202);
    expect(
      (await identify(c, site.site_key, [{ id: 'rot', email: 'rot@acme.test', user_hash: userHash(fresh, 'rot') }]))
        .status,
    ).toBe(202);
    await removeOldIdentitySecret(c.collector.store, site.site_key);
    await expectRefused(site.site_key, { email: 'rot@acme.test', identity_token: withOld }, 'identity_token');
    expect((await identify(c, site.site_key, [{ email: 'rot@acme.test', identity_token: withNew }])).status).toBe(202);
  });
});

describe('user_hash', () => {
  it('stores an identity with a valid user_hash at user_hash rank', async () => {
    const res = await identify(c, optional.site_key, [
      { id: 'uh-1', email: 'uh@acme.test', name: 'Hash', user_hash: userHash(optional.identity_secret, 'uh-1') },
    ]);
    expect(res.status).toBe(202);
    await c.collector.intake.drained();
    const p = (await pending(optional.site_key, 'uh-1'))!;
    expect(p.profile.f.name).toBe('Hash');
    expect(p.profile.v.name[0]).toBe(1);
  });

  it('accepts the hash in upper-case hex: the same bytes', async () => {
    const hash = userHash(optional.identity_secret, 'uh-case').toUpperCase();
    expect(
      (await identify(c, optional.site_key, [{ id: 'uh-case', email: 'uc@acme.test', user_hash: hash }])).status,
    ).toBe(202);
  });

  it("refuses a wrong hash, a truncated one, one for the id in another case, and one made with another site's secret", async () => {
    const good = userHash(optional.identity_secret, 'uh-2');
    const id = { id: 'uh-2', email: 'uh2@acme.test' };
    await expectRefused(
      optional.site_key,
      { ...id, user_hash: userHash(optional.identity_secret, 'uh-3') },
      'user_hash',
    );
    await expectRefused(optional.site_key, { ...id, user_hash: good.slice(0, 63) }, 'user_hash');
    await expectRefused(optional.site_key, { ...id, user_hash: good.slice(0, 32) }, 'user_hash');
    await expectRefused(
      optional.site_key,
      { ...id, user_hash: userHash(optional.identity_secret, 'UH-2') },
      'user_hash',
    );
    await expectRefused(optional.site_key, { ...id, user_hash: userHash(other.identity_secret, 'uh-2') }, 'user_hash');
  });

  it('proves only the id: it cannot outrank a token-set field', async () => {
    const token = await signIdentityToken(optional.identity_secret, {
      id: 'uh-tok',
      email: 'ut@acme.test',
      name: 'From Token',
    });
    await identify(c, optional.site_key, [{ email: 'ut@acme.test', identity_token: token }]);
    await identify(c, optional.site_key, [
      {
        id: 'uh-tok',
        email: 'ut@acme.test',
        name: 'From Page',
        user_hash: userHash(optional.identity_secret, 'uh-tok'),
      },
    ]);
    await c.collector.intake.drained();
    expect((await pending(optional.site_key, 'uh-tok'))!.profile.f.name).toBe('From Token');
  });
});

describe('verification modes', () => {
  it('required: refuses an identity without proof with 401 and stores nothing', async () => {
    await expectRefused(required.site_key, { id: 'req-1', email: 'req@acme.test' }, 'identity_token');
  });

  it('required: accepts a proven identity', async () => {
    const res = await identify(c, required.site_key, [
      { id: 'req-2', email: 'req2@acme.test', user_hash: userHash(required.identity_secret, 'req-2') },
    ]);
    expect(res.status).toBe(202);
  });

  it('required: refuses a whole batch when one item lacks proof, so nothing of it is stored', async () => {
    const before = await stored(c, required.site_key);
    const res = await identify(c, required.site_key, [
      { id: 'req-3', email: 'req3@acme.test', user_hash: userHash(required.identity_secret, 'req-3') },
      { id: 'req-4', email: 'req4@acme.test' },
    ]);
    expect(res.status).toBe(401);
    expect(res.json.errors.details[0]).toMatchObject({ index: 1 });
    expect(await stored(c, required.site_key)).toEqual(before);
  });

  it('optional: refuses a whole batch when one item carries a wrong proof', async () => {
    const before = await stored(c, optional.site_key);
    const res = await identify(c, optional.site_key, [
      { id: 'opt-ok', email: 'ok@acme.test' },
      { id: 'opt-bad', email: 'bad@acme.test', user_hash: 'ab'.repeat(32) },
    ]);
    expect(res.status).toBe(401);
    expect(res.json.errors.details[0]).toMatchObject({ index: 1, field: 'user_hash' });
    expect(await stored(c, optional.site_key)).toEqual(before);
  });

  it('optional: stores an unproven identity without overwriting what a token set', async () => {
    const token = await signIdentityToken(optional.identity_secret, {
      id: 'opt-1',
      email: 'o1@acme.test',
      name: 'Signed',
      account: { id: 'opt-acct', monthly_rate: 50 },
    });
    await identify(c, optional.site_key, [{ email: 'o1@acme.test', identity_token: token }]);
    const res = await identify(c, optional.site_key, [
      {
        id: 'opt-1',
        email: 'spoof@evil.test',
        name: 'Spoof',
        app_version: '9.9',
        account: { id: 'opt-acct', monthly_rate: 5000 },
      },
    ]);
    expect(res.status).toBe(202);
    await c.collector.intake.drained();
    const p = (await pending(optional.site_key, 'opt-1'))!;
    expect(p.profile.f).toMatchObject({ email: 'o1@acme.test', name: 'Signed', app_version: '9.9' });
    expect(await heldMrr(optional.site_key, 'opt-acct')).toBe(5000);
  });

  it('off: ignores proofs altogether, even wrong ones', async () => {
    const res = await identify(c, c.siteKey, [
      { id: 'off-1', email: 'off@acme.test', user_hash: 'ab'.repeat(32), identity_token: 'garbage' },
    ]);
    expect(res.status).toBe(202);
    await c.collector.intake.drained();
    expect(sourceOf((await pending(c.siteKey, 'off-1'))!.profile.v.email[0])).toBe(RANK.unproven);
  });
});

describe('a spoofed identify against an admin-imported user', () => {
  // In off mode the site believes its pages: the newest update wins (test/server/source-ranks.test.ts).
  it("changes neither the email nor the account's MRR where the site ranks sources", async () => {
    const { site_key: site, admin_key: key } = optional;
    const imported = await admin(
      c,
      'POST',
      '/external_users/import',
      {
        users: [
          {
            external_id: 'vip',
            email: 'vip@acme.test',
            name: 'VIP',
            account: { external_id: 'vip-co', name: 'VIP Co', mrr_cents: 10_000 },
          },
        ],
      },
      key,
    );
    expect(imported.status).toBe(200);
    const res = await identify(c, site, [
      { id: 'vip', email: 'attacker@evil.test', name: 'Attacker', account: { id: 'vip-co', monthly_rate: 1 } },
    ]);
    expect(res.status).toBe(202);
    await c.collector.intake.drained();
    const users = await admin(c, 'GET', '/users?includes=external_users,external_accounts', undefined, key);
    const eu = users.json.external_users.find((u: any) => u.external_id === 'vip');
    expect(eu).toMatchObject({ email: 'vip@acme.test', name: 'VIP' });
    expect(users.json.external_accounts.find((a: any) => a.external_id === 'vip-co').mrr_cents).toBe(10_000);
  });
});

describe('feedback attribution', () => {
  it('records feedback that merely claims to be a verified user anonymously', async () => {
    const token = await signIdentityToken(optional.identity_secret, { id: 'fb-v', email: 'fbv@acme.test' });
    expect(
      (
        await feedback(c, optional.site_key, {
          kind: 'nps',
          score: 9,
          identity: { email: 'fbv@acme.test', identity_token: token },
        })
      ).status,
    ).toBe(201);
    const spoof = await feedback(c, optional.site_key, {
      kind: 'nps',
      score: 0,
      identity: { id: 'fb-v', email: 'fbv@acme.test' },
    });
    expect(spoof.status).toBe(201);
    const byEmail = await feedback(c, optional.site_key, { kind: 'nps', score: 1, email: 'fbv@acme.test' });
    expect(byEmail.status).toBe(201);
    const list = await admin(c, 'GET', '/feedback', undefined, optional.admin_key);
    const byScore = (s: number) => list.json.feedback.find((f: any) => f.score === s);
    expect(byScore(9).user?.email).toBe('fbv@acme.test');
    expect(byScore(0).user).toBeNull();
    expect(byScore(1).user).toBeNull();
  });

  it('attributes unproven feedback of a person no verified source has vouched for', async () => {
    expect(
      (
        await feedback(c, optional.site_key, {
          kind: 'nps',
          score: 7,
          identity: { id: 'fb-u', email: 'fbu@acme.test' },
        })
      ).status,
    ).toBe(201);
    const list = await admin(c, 'GET', '/feedback', undefined, optional.admin_key);
    expect(list.json.feedback.find((f: any) => f.score === 7).user.email).toBe('fbu@acme.test');
  });

  it('refuses feedback with a wrong proof, and feedback without proof in required mode', async () => {
    const before = await stored(c, required.site_key);
    const wrong = await feedback(c, optional.site_key, {
      kind: 'nps',
      score: 3,
      identity: { id: 'x', email: 'x@acme.test', user_hash: 'cd'.repeat(32) },
    });
    expect(wrong.status).toBe(401);
    const missing = await feedback(c, required.site_key, {
      kind: 'nps',
      score: 3,
      identity: { id: 'y', email: 'y@acme.test' },
    });
    expect(missing.status).toBe(401);
    expect(await stored(c, required.site_key)).toEqual(before);
  });
});

describe('admin authentication', () => {
  const stats = (headers: Record<string, string>, query = '') =>
    fetch(`${c.url}/api/v2/admin/stats${query}`, { headers }).then(async (r) => ({
      status: r.status,
      headers: r.headers,
      json: (await r.json()) as any,
    }));

  it('answers 401 without a key, with a wrong key, and with the key in the query string', async () => {
    for (const res of [
      await stats({}),
      await stats({ authorization: 'Bearer wrong-key-0000000000000' }),
      await stats({ authorization: c.adminKey }),
      await stats({}, `?key=${c.adminKey}`),
      await stats({}, `?access_token=${c.adminKey}`),
    ]) {
      expect(res.status).toBe(401);
      expect(res.json.errors.type).toBe('unauthorized');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
    expect((await stats({ authorization: `Bearer ${c.adminKey}` })).status).toBe(200);
  });

  it('does not take an identity secret or a site key for an admin key', async () => {
    expect((await stats({ authorization: `Bearer ${optional.identity_secret}` })).status).toBe(401);
    expect((await stats({ authorization: `Bearer ${optional.site_key}` })).status).toBe(401);
  });
});

describe('the operator CLI', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const parley = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], {
      env: { ...process.env, PARLEY_DATA_DIR: dataDir },
    });
    return stdout.trim();
  };

  it("signs a token for a site that the site's secret verifies, through a rotation", async () => {
    const created = JSON.parse(
      await parley('sites', 'create', '--name', 'Cli', '--origin', 'https://*.acme.test', '--verification', 'optional'),
    );
    expect(created.origins).toEqual(['https://*.acme.test']);
    const token = await parley(
      'sign',
      '--site',
      created.site_key,
      '--id',
      '123',
      '--email',
      'Ann@Acme.test',
      '--name',
      'Ann',
      '--account-id',
      'acme',
      '--mrr',
      '99.5',
      '--ltv',
      '1495',
      '--plan',
      'Team',
      '--ttl',
      '600',
    );
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(created.identity_secret), {
      algorithms: ['HS256'],
    });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({
      sub: '123',
      email: 'Ann@Acme.test',
      name: 'Ann',
      account: { id: 'acme', monthly_rate: 99.5, ltv: 1495, plan: 'Team' },
    });
    expect(payload.exp! - payload.iat!).toBe(600);

    const rotated = JSON.parse(await parley('sites', 'rotate-secret', '--site', created.site_key));
    const next = await parley('sign', '--site', created.site_key, '--id', '123', '--email', 'ann@acme.test');
    await expect(jwtVerify(next, new TextEncoder().encode(rotated.identity_secret))).resolves.toBeDefined();
    await parley('sites', 'remove-secret', '--site', created.site_key);
    expect(JSON.parse(await parley('sites', 'set', '--site', created.site_key, '--verification', 'required'))).toEqual({
      site_key: created.site_key,
      verification: 'required',
    });
    const listed = JSON.parse(await parley('sites', 'list'));
    expect(listed[0]).toMatchObject({ site_key: created.site_key, verification: 'required' });
    expect(JSON.stringify(listed)).not.toContain(rotated.identity_secret);
  }, 240_000); // seven CLI processes; slow on a loaded machine
});
