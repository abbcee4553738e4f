/**
 * An account sent without an id is private to the one user that carries it
 * (docs/API.md#the-identity-object). It is stored under a key no client id can spell, so no
 * other person can reach it by sending that key as an account id — through the widget, feedback,
 * bulk_identify, an identity token's claims or either import. Real HTTP, in `required` mode and
 * in `off` mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedSite } from '../../server/sites.ts';
import { signIdentityToken, userHash } from '../../server/sign.ts';
import { startCollector, type TestCollector } from '../helpers/collector.ts';
import { addSite, admin, feedback, identify, stored } from '../helpers/hostile.ts';

let c: TestCollector;
let required: CreatedSite;
beforeAll(async () => {
  c = await startCollector();
  required = await addSite(c, 'required');
});
afterAll(async () => {
  await c.stop();
});

interface Mode {
  name: string;
  site: () => string;
  key: () => string;
  /** The identity as a page of this site sends it: with a valid user_hash where one is required. */
  proven: (identity: { id: string; email: string; [k: string]: unknown }) => object;
}
const modes: Mode[] = [
  {
    name: 'required',
    site: () => required.site_key,
    key: () => required.admin_key,
    proven: (i) => ({ ...i, user_hash: userHash(required.identity_secret, i.id) }),
  },
  { name: 'off', site: () => c.siteKey, key: () => c.adminKey, proven: (i) => i },
];

/** The private account as the admin API lists it, with its user count. */
async function privateAccount(m: Mode, key: string) {
  const list = await admin(c, 'GET', '/external_accounts?per_page=100', undefined, m.key());
  return list.json.external_accounts.find((a: any) => a.id === key);
}

describe.each(modes)('the private account of a user ($name mode)', (m) => {
  const victim = `${m.name}-1001`;
  const attacker = `${m.name}-2002`;
  const privateKey = `~${victim}`;
  const hijack = { id: privateKey, name: 'Pwned again', monthly_rate: 0.01 };
  const untouched = { id: privateKey, external_id: null, name: 'Victim Private', mrr_cents: 30000, users_count: 1 };

  beforeAll(async () => {
    const res = await feedback(c, m.site(), {
      kind: 'nps',
      score: 9,
      identity: m.proven({
        id: victim,
        email: `${victim}@victim.test`,
        account: { name: 'Victim Private', monthly_rate: 300 },
      }),
    });
    expect(res.status).toBe(201);
    expect(await privateAccount(m, privateKey)).toMatchObject(untouched);
  });

  it('refuses its key as an account id in a widget identify, naming account.id', async () => {
    const res = await identify(c, m.site(), [
      m.proven({ id: attacker, email: `${attacker}@evil.test`, account: hijack }),
    ]);
    expect(res.status).toBe(400);
    expect(res.json.errors.details).toContainEqual(expect.objectContaining({ index: 0, field: 'account.id' }));
    await stored(c, m.site());
    expect(await privateAccount(m, privateKey)).toMatchObject(untouched);
  });

  it('refuses it in feedback, naming identity.account.id, and records nothing', async () => {
    const before = await stored(c, m.site());
    const res = await feedback(c, m.site(), {
      kind: 'nps',
      score: 1,
      identity: m.proven({ id: attacker, email: `${attacker}@evil.test`, account: hijack }),
    });
    expect(res.status).toBe(400);
    expect(res.json.errors.details).toContainEqual(expect.objectContaining({ field: 'identity.account.id' }));
    expect(await stored(c, m.site())).toEqual(before);
    expect(await privateAccount(m, privateKey)).toMatchObject(untouched);
  });

  it('refuses it in bulk_identify, naming the item and account.id', async () => {
    const res = await admin(
      c,
      'POST',
      '/bulk_identify',
      { identities: [{ id: attacker, email: `${attacker}@evil.test`, account: hijack }] },
      m.key(),
    );
    expect(res.status).toBe(400);
    expect(res.json.errors.details).toContainEqual(expect.objectContaining({ index: 0, field: 'account.id' }));
    await stored(c, m.site());
    expect(await privateAccount(m, privateKey)).toMatchObject(untouched);
  });

  it('refuses it in both imports with 422, naming the record and field', async () => {
    const users = await admin(
      c,
      'POST',
      '/external_users/import',
      {
        users: [
          { external_id: attacker, email: `${attacker}@evil.test`, account: { external_id: privateKey, mrr_cents: 1 } },
        ],
      },
      m.key(),
    );
    expect(users.status).toBe(422);
    expect(users.json.errors.details).toContainEqual(
      expect.objectContaining({ index: 0, field: 'account.external_id' }),
    );
    const accounts = await admin(
      c,
      'POST',
      '/external_accounts/import',
      { accounts: [{ external_id: privateKey, name: 'Pwned again', mrr_cents: 1 }] },
      m.key(),
    );
    expect(accounts.status).toBe(422);
    expect(accounts.json.errors.details).toContainEqual(expect.objectContaining({ index: 0, field: 'external_id' }));
    expect(await privateAccount(m, privateKey)).toMatchObject(untouched);
  });

  it("still takes a private account for the attacker's own, without an id", async () => {
    const res = await feedback(c, m.site(), {
      kind: 'nps',
      score: 5,
      identity: m.proven({ id: attacker, email: `${attacker}@evil.test`, account: { name: 'Mine', mrr_cents: 7 } }),
    });
    expect(res.status).toBe(201);
    expect(await privateAccount(m, `~${attacker}`)).toMatchObject({ name: 'Mine', mrr_cents: 7, users_count: 1 });
    expect(await privateAccount(m, privateKey)).toMatchObject(untouched);
  });
});

describe('an identity token naming a private key as its account', () => {
  it('is refused with 401, naming the claim', async () => {
    const token = await signIdentityToken(required.identity_secret, {
      id: 'tok-7',
      email: 'tok-7@acme.test',
      account: { id: '~required-1001', monthly_rate: 0.01 },
    });
    const res = await identify(c, required.site_key, [{ email: 'tok-7@acme.test', identity_token: token }]);
    expect(res.status).toBe(401);
    expect(res.json.errors.details).toContainEqual(expect.objectContaining({ field: 'identity_token.account.id' }));
  });
});
