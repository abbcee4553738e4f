/** The pure mapping of Segment's and Intercom's data onto Parley's identity object (widget/sources/map.ts). */
import { describe, expect, it } from 'vitest';
import { normalizeIdentity } from '../../widget/identity.ts';
import { fromIntercom, fromSegment, parseRevenue } from '../../widget/sources/map.ts';
import { plain } from '../../widget/sources/plain.ts';

describe('Segment', () => {
  it('maps reserved traits in camelCase, the group as the account, other traits as cf_*', () => {
    const identity = fromSegment({
      userId: 'u1',
      traits: {
        email: 'ann@acme.test',
        firstName: 'Ann',
        lastName: 'Lee',
        createdAt: '2024-01-02T00:00:00Z',
        seatCount: 3,
        plan: 'Pro',
      },
      groupId: 'acme',
      groupTraits: { name: 'Acme', createdAt: 1700000000000, mrr: 99.5, industry: 'Retail' },
    });
    expect(identity).toEqual({
      id: 'u1',
      email: 'ann@acme.test',
      name: 'Ann Lee',
      created_at: 1704153600,
      cf_seat_count: 3,
      account: {
        id: 'acme',
        name: 'Acme',
        created_at: 1700000000,
        mrr_cents: 9950,
        plan: 'Pro',
        cf_industry: 'Retail',
      },
    });
    // and widget.js keeps all of it (the allow-list of widget/identity.ts)
    expect(normalizeIdentity(identity)).toMatchObject({
      name: 'Ann Lee',
      cf_seat_count: 3,
      account: { mrr_cents: 9950 },
    });
  });

  it('reads snake_case, a name over first and last, and mrr_cents in cents', () => {
    expect(
      fromSegment({
        userId: 7,
        traits: { email: 'b@x.test', name: 'Bea', first_name: 'B', created_at: 1364406966 },
        groupId: 42,
        groupTraits: { mrr_cents: 12345, plan: 'Team' },
      }),
    ).toEqual({
      id: '7',
      email: 'b@x.test',
      name: 'Bea',
      created_at: 1364406966,
      account: { id: '42', plan: 'Team', mrr_cents: 12345 },
    });
  });

  it('takes the first of companies[] (or company) as the account when there is no group, the rest as accounts', () => {
    const traits = {
      email: 'c@x.test',
      companies: [{ id: 'one', name: 'One', monthlySpend: '10.5' }, { id: 'two', name: 'Two' }, { name: 'NoId' }],
    };
    expect(fromSegment({ traits })).toMatchObject({
      account: { id: 'one', name: 'One', mrr_cents: 1050 },
      accounts: [{ id: 'two', name: 'Two' }],
    });
    // With a group acting, every company is one more account.
    expect((fromSegment({ traits, groupId: 'g' })?.accounts as { id: string }[]).map((a) => a.id)).toEqual([
      'one',
      'two',
    ]);
    expect(fromSegment({ traits: { email: 'c@x.test', company: { id: 'co', plan: 'Free' } } })?.account).toEqual({
      id: 'co',
      plan: 'Free',
    });
    // A company without an id is no account (a name alone would make a private one).
    expect(fromSegment({ traits: { email: 'c@x.test', company: { name: 'NoId' } } })?.account).toBeUndefined();
  });

  it('reads revenue from the trait the embed names, in its unit, instead of the defaults', () => {
    const group = { arr: 1200, mrr: 5 };
    expect(
      fromSegment({ traits: { email: 'a@x.test' }, groupId: 'g', groupTraits: group }, parseRevenue('arr:dollars'))
        ?.account,
    ).toEqual({ id: 'g', mrr_cents: 120000, cf_mrr: 5 });
    expect(
      fromSegment({ traits: { email: 'a@x.test' }, groupId: 'g', groupTraits: group }, parseRevenue('arr:cents'))
        ?.account,
    ).toMatchObject({ mrr_cents: 1200 });
    expect(parseRevenue('no good!')).toEqual(parseRevenue(undefined));
  });

  it('identifies nobody without an email; the id defaults to the email in widget.js', () => {
    expect(fromSegment({ userId: 'u1', traits: { name: 'Ann' } })).toBeNull();
    expect(fromSegment({ traits: { email: 'no-at-sign' } })).toBeNull();
    expect(normalizeIdentity(fromSegment({ traits: { email: 'Anon@X.test' } }))).toMatchObject({ id: 'anon@x.test' });
  });

  it('leaves out values the collector would refuse rather than send an identity it rejects', () => {
    const traits: Record<string, unknown> = {
      email: 'a@x.test',
      name: 'x'.repeat(300),
      createdAt: 'yesterday',
      'bad key!': 'ok',
      tab: 'a\tb',
      nested: { a: 1 },
      list: [1, 2],
      n: Infinity,
    };
    for (let i = 0; i < 150; i++) traits[`t${i}`] = i;
    const identity = fromSegment({ userId: 'x'.repeat(256), traits, groupId: '~private', groupTraits: { mrr: -1 } })!;
    expect(identity.id).toBeUndefined();
    expect(identity.name).toBeUndefined();
    expect(identity.created_at).toBeUndefined();
    expect(identity.account).toBeUndefined();
    expect(identity.cf_bad_key_).toBe('ok');
    expect(identity.cf_tab).toBeUndefined();
    expect(Object.keys(identity).filter((k) => k.startsWith('cf_'))).toHaveLength(100);
  });
});

describe('Intercom', () => {
  it('maps user_id, email, name, created_at, user_hash, the first company with monthly_spend and plan, the others as accounts', () => {
    expect(
      fromIntercom({
        app_id: 'abc123',
        user_id: '123',
        email: 'ann@acme.test',
        name: 'Ann',
        created_at: 1364406966,
        user_hash: 'ab'.repeat(32),
        vertical_padding: 20,
        favourite_colour: 'blue',
        companies: [
          { company_id: 'acme', name: 'Acme', monthly_spend: 99.5, plan: 'Team', size: 12 },
          { company_id: 'b' },
        ],
      }),
    ).toEqual({
      id: '123',
      email: 'ann@acme.test',
      name: 'Ann',
      created_at: 1364406966,
      user_hash: 'ab'.repeat(32),
      cf_favourite_colour: 'blue',
      account: { id: 'acme', name: 'Acme', plan: 'Team', mrr_cents: 9950, cf_size: 12 },
      accounts: [{ id: 'b' }],
    });
  });

  it('drops a user_hash that is not hex', () => {
    expect(fromIntercom({ email: 'a@x.test', user_hash: 'not hex' })).toEqual({ email: 'a@x.test' });
  });
});

describe('plain', () => {
  it('copies hostile objects into plain data, leaving out what cannot be read', () => {
    const cyclic: any = { email: 'a@x.test' };
    cyclic.self = cyclic;
    const getter = {
      email: 'a@x.test',
      get boom(): never {
        throw new Error('boom');
      },
    };
    const proxy = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('keys');
        },
      },
    );
    expect(plain(cyclic)).toEqual({ email: 'a@x.test', self: { email: 'a@x.test', self: { email: 'a@x.test' } } });
    expect(plain(getter)).toEqual({ email: 'a@x.test' });
    expect(plain(proxy)).toBeUndefined();
    expect(plain('x'.repeat(2000))).toBeUndefined();
    expect(plain({ ['__proto__']: { polluted: true } } as object)).not.toHaveProperty('polluted');
    expect(({} as any).polluted).toBeUndefined();
  });
});
