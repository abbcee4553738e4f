/**
 * The fast path of identity validation (shared/identity-fast.ts) must never disagree with the
 * schema it shortcuts: whenever it answers, the schema accepts the same input with the same
 * result, key order included (the result is written to the intake log as it is).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identitySchema } from '../../shared/identity.ts';
import { fastIdentity, safeParseIdentity } from '../../shared/identity-fast.ts';

/** Values that are valid for some fields and invalid for others, edge cases included. */
const value = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    '',
    ' ',
    'x',
    'Ann',
    '0',
    '99.50',
    'DE',
    'de',
    'd3',
    'Ann\u0000',
    'a\nb',
    '😀',
    '\ud800',
    'abc123',
    '2024-01-01T00:00:00Z',
  ),
  fc.constantFrom(
    0,
    -0,
    -1,
    1.5,
    99.5,
    1364406966,
    32503680001,
    9_999_999.995,
    1e7,
    2 ** 53,
    Number.MAX_SAFE_INTEGER,
    true,
    false,
  ),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double(),
  fc.constant([]),
  fc.constant({}),
);
/** Mostly a valid value of the field's kind (or none), sometimes anything at all. */
const field = (...valid: fc.Arbitrary<unknown>[]) =>
  fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 10 },
    ...valid.map((arbitrary) => ({ arbitrary, weight: 10 })),
    { arbitrary: value, weight: 1 },
  );
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 12 }),
  fc.constantFrom('Ann', 'Team', '4.2.0', 'Europe/Berlin', 'de-DE', '😀 ok'),
);
const seconds = fc.oneof(
  fc.integer({ min: 0, max: 2_000_000_000 }),
  fc.double({ min: 0, max: 32503680000, noNaN: true }),
  fc.constantFrom('2024-01-01T00:00:00Z', 32503680000, 32503680001, 1.7e12),
);
const money = fc.oneof(
  fc.integer({ min: 0, max: 20_000_000 }),
  fc.double({ min: 0, max: 10_000_001, noNaN: true }),
  fc.constantFrom('99.50', 10_000_000, 10_000_000.01, 1_000_000_000, 1_000_000_001, 0.005, 1.005),
);
// '~…' is a private account's key, never a client's account id (shared/text.ts accountId).
const id = fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.nat(), fc.constantFrom(' ', '~1001', '~'));
const email = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      'ann@acme.test',
      ' Ann@ACME.test ',
      'bad',
      'a@b',
      'x'.repeat(250) + '@a.test',
      "o'neil+x@mail.example.org",
    ),
    weight: 3,
  },
  { arbitrary: fc.emailAddress(), weight: 5 },
  {
    arbitrary: fc
      .tuple(fc.stringMatching(/^[a-z0-9.+_]{1,12}$/), fc.constantFrom('acme.test', 'mail.example.org'))
      .map(([u, d]) => `${u}@${d}`),
    weight: 10,
  },
  { arbitrary: value, weight: 1 },
);
const cf = fc.dictionary(
  fc.constantFrom('cf_a', 'cf_b2', 'cf_region', 'cf_persona', 'cf_seats', 'cf_', 'cf_Bad', 'cf_x-y', 'other'),
  field(text, fc.integer(), fc.boolean(), fc.double()),
  { maxKeys: 3 },
);
const account = field(
  fc
    .tuple(
      fc.record(
        {
          id: field(id),
          name: field(text),
          plan: field(text),
          created_at: field(seconds),
          monthly_rate: field(money),
          ltv: field(money),
          mrr_cents: field(money),
          ltv_cents: field(money),
        },
        { requiredKeys: [] },
      ),
      cf,
    )
    .map(([a, c]) => ({ ...a, ...c })),
);
// Several accounts: mostly valid ones that name an id, sometimes one without, too many or junk.
const accounts = field(
  fc.array(account, { maxLength: 3 }),
  fc.array(
    account.map((a) => (a && typeof a === 'object' ? { ...a, id: 'x' } : a)),
    { minLength: 10, maxLength: 12 },
  ),
);
const location = field(
  fc.record(
    { country: field(fc.constantFrom('DE', 'de', 'dE', 'D', 'DEU', 'D1')), region: field(text), city: field(text) },
    { requiredKeys: [] },
  ),
);
const identity = fc
  .tuple(
    fc.record(
      {
        id: field(id),
        email,
        name: field(text),
        type: field(text),
        created_at: field(seconds),
        account,
        accounts,
        app_version: field(text),
        location,
        timezone: field(text),
        locale: field(text),
        identity_token: field(text),
        user_hash: field(fc.constantFrom('abcdef0123', 'ABC', 'xyz', '')),
      },
      { requiredKeys: ['email'] },
    ),
    cf,
  )
  .map(([i, c]) => ({ ...i, ...c }));

describe('fast identity validation', () => {
  it('answers only what the schema answers, for any input', () => {
    fc.assert(
      fc.property(identity, (raw) => {
        const fast = fastIdentity(raw);
        if (fast === undefined) return;
        const slow = identitySchema.safeParse(raw);
        expect(slow.success).toBe(true);
        expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.data));
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the fast path for a typical widget identity', () => {
    const raw = {
      id: '123',
      email: 'Ann@Acme.test',
      name: 'Ann',
      created_at: 1364406966,
      type: 'Owner',
      cf_persona: 'developer',
      account: {
        id: 'acme',
        name: 'Acme',
        created_at: 1364406966,
        monthly_rate: 99.5,
        ltv: 1495,
        plan: 'Team',
        cf_region: 'EU',
      },
      app_version: '4.2.0',
      location: { country: 'de', region: 'BE', city: 'Berlin' },
      message_id: 'm1',
      observed_at: 1,
    };
    const fast = fastIdentity(raw);
    expect(fast).toBeDefined();
    expect(JSON.stringify(fast)).toBe(JSON.stringify(identitySchema.parse(raw)));
  });

  it("falls back to the schema for what it is unsure of, with the schema's errors", () => {
    expect(safeParseIdentity({ email: 'ann@acme.test', created_at: '2024-01-01T00:00:00Z' }).data?.created_at).toBe(
      1704067200,
    );
    const bad = safeParseIdentity({ email: 'nope' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].path).toEqual(['email']);
  });
});
