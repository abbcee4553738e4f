/**
 * Money is stored in whole cents (docs/API.md#the-identity-object): an amount with more than two
 * decimal places is refused in every form and on every route that takes one, with a message
 * that says so, never rounded (0.001 used to become 0 cents) and never "Invalid input".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identitySchema } from '../../shared/identity.ts';
import { fastIdentity } from '../../shared/identity-fast.ts';
import type { CreatedSite } from '../../server/sites.ts';
import { signIdentityToken } from '../../server/sign.ts';
import type { TestCollector } from '../helpers/collector.ts';
import { addSite, admin, identify, startUnlimitedCollector, stored } from '../helpers/hostile.ts';

let c: TestCollector;
let verified: CreatedSite;
beforeAll(async () => {
  c = await startUnlimitedCollector();
  verified = await addSite(c, 'required');
});
afterAll(async () => {
  await c.stop();
});

const SUB_CENT = /more than 2 decimal places/;
const person = { id: 'rich', email: 'rich@acme.test' };

/** The one detail a refusal names, whatever its route's shape. */
function detailOf(body: any): { field: string; message: string } {
  return body.rejected?.[0]?.errors?.[0] ?? body.errors.details[0];
}

describe('sub-cent money', () => {
  it.each([
    ['a number', { monthly_rate: 0.001 }, 'account.monthly_rate'],
    ['a string', { monthly_rate: '0.001' }, 'account.monthly_rate'],
    ['an LTV number', { ltv: 12.345 }, 'account.ltv'],
    ['an LTV string', { ltv: '12.345' }, 'account.ltv'],
    ['a tiny number', { monthly_rate: 1e-7 }, 'account.monthly_rate'],
  ])('is refused as %s in a widget identify, naming the field, and nothing is stored', async (_, money, field) => {
    const before = await stored(c, 'demo');
    const res = await identify(c, 'demo', [{ ...person, account: { id: 'acme', ...money } }]);
    expect(res.status).toBe(400);
    expect(res.json.errors.type).toBe('invalid_request');
    expect(res.json.errors.details).toEqual([expect.objectContaining({ index: 0, field })]);
    expect(res.json.errors.details[0].message).toMatch(SUB_CENT);
    expect(await stored(c, 'demo')).toEqual(before);
  });

  it('is refused in bulk_identify, item by item', async () => {
    const res = await admin(c, 'POST', '/bulk_identify', {
      identities: [
        { id: 'bulk-ok', email: 'ok@acme.test', account: { id: 'ok-co', monthly_rate: 0.29 } },
        { id: 'bulk-bad', email: 'bad@acme.test', account: { id: 'bad-co', monthly_rate: 0.001 } },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.json.accepted).toBe(1);
    expect(res.json.rejected).toEqual([
      { index: 1, errors: [expect.objectContaining({ field: 'account.monthly_rate' })] },
    ]);
    expect(detailOf(res.json).message).toMatch(SUB_CENT);
    await c.collector.intake.drained();
    expect((await c.collector.store.getPendingAccount('demo', 'ok-co'))?.profile.f.mrr_cents).toBe(29);
    expect(await c.collector.store.getPendingAccount('demo', 'bad-co')).toBeFalsy();
  });

  // A token whose claims are not a valid identity is refused like any bad proof (401).
  it("is refused in an identity token's claims", async () => {
    const token = await signIdentityToken(verified.identity_secret, {
      ...person,
      account: { id: 'tok-co', monthly_rate: 0.001 },
    });
    const before = await stored(c, verified.site_key);
    const res = await identify(c, verified.site_key, [{ ...person, identity_token: token }]);
    expect(res.status).toBe(401);
    expect(detailOf(res.json).field).toBe('identity_token.account.monthly_rate');
    expect(detailOf(res.json).message).toMatch(SUB_CENT);
    expect(await stored(c, verified.site_key)).toEqual(before);
  });

  it.each([
    [
      'users',
      { users: [{ external_id: 'imp-u', email: 'imp@acme.test', account: { external_id: 'imp-co', ltv: 0.001 } }] },
      'account.ltv',
    ],
    ['accounts', { accounts: [{ external_id: 'imp-co', monthly_rate: '0.001' }] }, 'monthly_rate'],
  ])('is refused by the %s import, which writes nothing', async (kind, body, field) => {
    const before = await stored(c, 'demo');
    const res = await admin(c, 'POST', `/external_${kind}/import`, body);
    expect(res.status).toBe(422);
    expect(res.json.errors.details).toEqual([expect.objectContaining({ index: 0, field })]);
    expect(res.json.errors.details[0].message).toMatch(SUB_CENT);
    expect(await stored(c, 'demo')).toEqual(before);
  });
});

describe('whole-cent money', () => {
  it.each([
    [0.29, 29],
    [99.5, 9950],
    ['99.50', 9950],
    ['1.500', 150],
    [0, 0],
    [10_000_000, 1_000_000_000],
  ])('%j is stored as %d cents by both the schema and its fast path', (rate, cents) => {
    const raw = { ...person, account: { id: 'acme', monthly_rate: rate } };
    expect(identitySchema.parse(raw).account?.mrr_cents).toBe(cents);
    if (typeof rate === 'number') expect(fastIdentity(raw)?.account?.mrr_cents).toBe(cents);
  });

  it('leaves a sub-cent number to the schema, which refuses it', () => {
    const raw = { ...person, account: { id: 'acme', monthly_rate: 0.005 } };
    expect(fastIdentity(raw)).toBeUndefined();
    expect(identitySchema.safeParse(raw).error?.issues[0].message).toMatch(SUB_CENT);
  });
});
