/**
 * A malformed-input corpus through the full HTTP path (issue 5). Every payload must be refused
 * with the right status and the error envelope naming the field, write nothing, and leave
 * Object.prototype untouched. A fast-check property then throws random JSON with dangerous keys
 * at the same routes: never a 5xx, never a polluted prototype.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WIDGET_BATCH_MAX_ITEMS } from '../../shared/limits.ts';
import type { TestCollector } from '../helpers/collector.ts';
import { post, startUnlimitedCollector, stored } from '../helpers/hostile.ts';

let c: TestCollector;
let ideaId: string;
beforeAll(async () => {
  c = await startUnlimitedCollector();
  const idea = await post(
    `${c.url}/api/widget/v1/demo/feedback`,
    { message_id: 'seed-idea', kind: 'idea', title: 'Dark mode' },
    { origin: c.url },
  );
  ideaId = idea.json.feedback.id;
});
afterAll(async () => {
  await c.stop();
});

const T = 1_790_000_000_000;
const ok = { id: 'u1', email: 'ann@acme.test' };
/** A widget batch of one item, the item merged over a valid one. */
const one = (item: Record<string, unknown>) =>
  JSON.stringify({ sent_at: T, identities: [{ message_id: 'm1', observed_at: T, ...ok, ...item }] });
const cf = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`cf_k${i}`, i]));
const nest = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

type Route = 'identify' | 'feedback' | 'bulk';
interface Case {
  name: string;
  route?: Route;
  body: string | Buffer;
  status: number;
  field?: string | RegExp;
  headers?: Record<string, string>;
}

const corpus: Case[] = [
  // The body as a whole
  { name: 'an empty body', body: '', status: 400, field: '(body)' },
  { name: 'whitespace only', body: '  \n ', status: 400, field: '(body)' },
  { name: 'truncated JSON', body: '{"sent_at": 1, "identities": [{"email": "a@b.co"', status: 400, field: '(body)' },
  { name: 'JSON null', body: 'null', status: 400, field: '(body)' },
  { name: 'a top-level array', body: '[{"email":"a@b.co"}]', status: 400, field: '(body)' },
  { name: 'a top-level string', body: '"identify"', status: 400, field: '(body)' },
  { name: 'a top-level number', body: '42', status: 400, field: '(body)' },
  { name: 'an empty object', body: '{}', status: 400, field: /sent_at|identities/ },
  {
    name: 'identities as an object',
    body: JSON.stringify({ sent_at: T, identities: { 0: ok } }),
    status: 400,
    field: 'identities',
  },
  { name: 'no identities', body: JSON.stringify({ sent_at: T, identities: [] }), status: 400, field: 'identities' },
  {
    name: 'too many items',
    body: JSON.stringify({
      sent_at: T,
      identities: Array.from({ length: WIDGET_BATCH_MAX_ITEMS + 1 }, (_, i) => ({
        message_id: `m${i}`,
        observed_at: T,
        ...ok,
      })),
    }),
    status: 400,
    field: 'identities',
  },
  { name: 'a body over 64 KB', body: one({ name: 'x'.repeat(70_000) }), status: 413 },
  { name: 'invalid UTF-8', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), status: 400 },
  {
    name: 'a form content type',
    body: one({}),
    status: 415,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  },
  {
    name: 'an octet-stream content type',
    body: one({}),
    status: 415,
    headers: { 'content-type': 'application/octet-stream' },
  },
  { name: 'a gzip-compressed body', body: one({}), status: 415, headers: { 'content-encoding': 'gzip' } },
  // Prototype pollution and parser bombs
  {
    name: '__proto__ at the top',
    body: `{"__proto__": {"polluted": 1}, "sent_at": ${T}, "identities": []}`,
    status: 400,
    field: '__proto__',
  },
  {
    name: '__proto__ in an identity',
    body: `{"sent_at": ${T}, "identities": [{"message_id": "m1", "observed_at": ${T}, "email": "a@b.co", "__proto__": {"polluted": 1}}]}`,
    status: 400,
    field: 'identities.0.__proto__',
  },
  {
    name: 'an escaped \\u005f_proto__ key',
    body: `{"sent_at": ${T}, "identities": [{"message_id": "m1", "observed_at": ${T}, "email": "a@b.co", "account": {"\\u005f_proto__": {"polluted": 1}}}]}`,
    status: 400,
    field: 'identities.0.account.__proto__',
  },
  {
    name: 'constructor.prototype',
    body: `{"sent_at": ${T}, "identities": [{"message_id": "m1", "observed_at": ${T}, "email": "a@b.co", "constructor": {"prototype": {"polluted": 1}}}]}`,
    status: 400,
    field: 'identities.0.constructor',
  },
  { name: '20,000-deep array nesting', body: nest(20_000), status: 400, field: /^0(\.0)+$/ },
  {
    name: '20,000-deep nesting inside an identity',
    body: one({ location: 'PLACEHOLDER' }).replace('"PLACEHOLDER"', nest(20_000)),
    status: 400,
    field: /identities\.0\.location/,
  },
  {
    name: '1e999 as sent_at',
    body: `{"sent_at": 1e999, "identities": [{"message_id": "m1", "observed_at": ${T}, "email": "a@b.co"}]}`,
    status: 400,
    field: 'sent_at',
  },
  {
    name: '-1e999 as an MRR',
    body: one({ account: { id: 'a', monthly_rate: 'X' } }).replace('"X"', '-1e999'),
    status: 400,
    field: 'identities.0.account.monthly_rate',
  },
  // Ids
  { name: 'an unsafe integer id', body: one({ id: 'X' }).replace('"X"', '9007199254740993'), status: 400, field: 'id' },
  { name: 'a negative id', body: one({ id: -1 }), status: 400, field: 'id' },
  { name: 'a fractional id', body: one({ id: 1.5 }), status: 400, field: 'id' },
  { name: 'an object id', body: one({ id: { $gt: '' } }), status: 400, field: 'id' },
  { name: 'an array id', body: one({ id: ['u1'] }), status: 400, field: 'id' },
  { name: 'a boolean id', body: one({ id: true }), status: 400, field: 'id' },
  { name: 'an empty id', body: one({ id: '' }), status: 400, field: 'id' },
  { name: 'a blank id', body: one({ id: '   ' }), status: 400, field: 'id' },
  { name: 'a 256-character id', body: one({ id: 'i'.repeat(256) }), status: 400, field: 'id' },
  // Text
  { name: 'a lone high surrogate in a name', body: one({ name: 'Ann \ud800' }), status: 400, field: 'name' },
  { name: 'a lone low surrogate in a name', body: one({ name: '\udc00Ann' }), status: 400, field: 'name' },
  { name: 'a NUL character in a name', body: one({ name: 'Ann\u0000' }), status: 400, field: 'name' },
  { name: 'a line break in a name', body: one({ name: 'Ann\nSmith' }), status: 400, field: 'name' },
  {
    name: 'an escape sequence in a plan',
    body: one({ account: { id: 'a', plan: '\u001b[31mred' } }),
    status: 400,
    field: 'account.plan',
  },
  { name: 'a numeric name', body: one({ name: 42 }), status: 400, field: 'name' },
  { name: 'a 257-character name', body: one({ name: 'n'.repeat(257) }), status: 400, field: 'name' },
  { name: 'a 129-character type', body: one({ type: 't'.repeat(129) }), status: 400, field: 'type' },
  { name: 'a 65-character app_version', body: one({ app_version: 'v'.repeat(65) }), status: 400, field: 'app_version' },
  // Email
  {
    name: 'no email',
    body: JSON.stringify({ sent_at: T, identities: [{ message_id: 'm1', observed_at: T, id: 'u1' }] }),
    status: 400,
    field: 'email',
  },
  { name: 'an email without @', body: one({ email: 'ann.acme.test' }), status: 400, field: 'email' },
  { name: 'a numeric email', body: one({ email: 12345 }), status: 400, field: 'email' },
  {
    name: 'an email over 254 characters',
    body: one({ email: `${'a'.repeat(250)}@acme.test` }),
    status: 400,
    field: 'email',
  },
  {
    name: 'an email with a header injection',
    body: one({ email: 'ann@acme.test\r\nBcc: all@acme.test' }),
    status: 400,
    field: 'email',
  },
  // Times
  { name: 'created_at as words', body: one({ created_at: 'yesterday' }), status: 400, field: 'created_at' },
  { name: 'created_at in milliseconds', body: one({ created_at: T }), status: 400, field: 'created_at' },
  { name: 'a negative created_at', body: one({ created_at: -5 }), status: 400, field: 'created_at' },
  {
    name: 'sent_at as a string',
    body: JSON.stringify({ sent_at: String(T), identities: [{ message_id: 'm1', observed_at: T, ...ok }] }),
    status: 400,
    field: 'sent_at',
  },
  { name: 'a negative observed_at', body: one({ observed_at: -1 }), status: 400, field: 'observed_at' },
  // Accounts and money
  { name: 'an account array', body: one({ account: [{ id: 'a' }] }), status: 400, field: 'account' },
  { name: 'an account string', body: one({ account: 'acme' }), status: 400, field: 'account' },
  {
    name: 'money as words',
    body: one({ account: { id: 'a', monthly_rate: 'ninety' } }),
    status: 400,
    field: 'account.monthly_rate',
  },
  {
    name: 'money with a currency sign',
    body: one({ account: { id: 'a', monthly_rate: '$99.50' } }),
    status: 400,
    field: 'account.monthly_rate',
  },
  {
    name: 'money in exponent notation',
    body: one({ account: { id: 'a', ltv: '1e3' } }),
    status: 400,
    field: 'account.ltv',
  },
  {
    name: 'money with three decimals',
    body: one({ account: { id: 'a', monthly_rate: '9.999' } }),
    status: 400,
    field: 'account.monthly_rate',
  },
  {
    name: 'a negative MRR',
    body: one({ account: { id: 'a', monthly_rate: -5 } }),
    status: 400,
    field: 'account.monthly_rate',
  },
  {
    name: 'a huge MRR',
    body: one({ account: { id: 'a', monthly_rate: 1e12 } }),
    status: 400,
    field: 'account.monthly_rate',
  },
  {
    name: 'fractional cents',
    body: one({ account: { id: 'a', mrr_cents: 10.5 } }),
    status: 400,
    field: 'account.mrr_cents',
  },
  {
    name: 'negative LTV cents',
    body: one({ account: { id: 'a', ltv_cents: -1 } }),
    status: 400,
    field: 'account.ltv_cents',
  },
  // Custom fields and location
  { name: '101 custom fields', body: one(cf(101)), status: 400, field: /^cf_k/ },
  { name: 'a custom field key with capitals', body: one({ cf_Persona: 'dev' }), status: 400, field: 'cf_Persona' },
  { name: 'a custom field key with a dash', body: one({ 'cf_per-sona': 'dev' }), status: 400, field: 'cf_per-sona' },
  { name: 'a bare cf_ key', body: one({ cf_: 'x' }), status: 400, field: 'cf_' },
  {
    name: 'an object custom field value',
    body: one({ cf_persona: { nested: true } }),
    status: 400,
    field: 'cf_persona',
  },
  {
    name: 'a 1025-character custom field value',
    body: one({ cf_note: 'x'.repeat(1025) }),
    status: 400,
    field: 'cf_note',
  },
  {
    name: 'a country that is not ISO alpha-2',
    body: one({ location: { country: 'Germany' } }),
    status: 400,
    field: 'location.country',
  },
  { name: 'a location string', body: one({ location: 'Berlin' }), status: 400, field: 'location' },
  // Delivery metadata
  {
    name: 'no message_id',
    body: JSON.stringify({ sent_at: T, identities: [{ observed_at: T, ...ok }] }),
    status: 400,
    field: 'message_id',
  },
  { name: 'a message_id with spaces', body: one({ message_id: 'a b' }), status: 400, field: 'message_id' },
  { name: 'a 65-character message_id', body: one({ message_id: 'm'.repeat(65) }), status: 400, field: 'message_id' },
  // Feedback
  {
    name: 'feedback of an unknown kind',
    route: 'feedback',
    body: JSON.stringify({ message_id: 'f1', kind: 'rant' }),
    status: 400,
    field: 'kind',
  },
  {
    name: 'an NPS score of 11',
    route: 'feedback',
    body: JSON.stringify({ message_id: 'f1', kind: 'nps', score: 11 }),
    status: 400,
    field: 'score',
  },
  {
    name: 'an idea without a title',
    route: 'feedback',
    body: JSON.stringify({ message_id: 'f1', kind: 'idea', body: 'x' }),
    status: 400,
    field: 'title',
  },
  {
    name: 'support for an unknown idea',
    route: 'feedback',
    body: JSON.stringify({ message_id: 'f1', kind: 'support', idea_id: 'fb_nope' }),
    status: 400,
    field: 'idea_id',
  },
  {
    name: 'a javascript: page_url',
    route: 'feedback',
    body: JSON.stringify({ message_id: 'f1', kind: 'nps', score: 5, page_url: 'javascript:alert(1)' }),
    status: 400,
    field: 'page_url',
  },
  {
    name: 'feedback with a malformed identity',
    route: 'feedback',
    body: JSON.stringify({ message_id: 'f1', kind: 'nps', score: 5, identity: { email: 'nope' } }),
    status: 400,
    field: 'identity.email',
  },
  {
    name: 'a feedback body over 10,000 characters',
    route: 'feedback',
    body: JSON.stringify({ message_id: 'f1', kind: 'comment', body: 'b'.repeat(10_001) }),
    status: 400,
    field: 'body',
  },
  {
    name: '__proto__ in feedback',
    route: 'feedback',
    body: '{"message_id": "f1", "kind": "nps", "score": 5, "__proto__": {"isAdmin": true}}',
    status: 400,
    field: '__proto__',
  },
  // Admin bulk_identify
  {
    name: 'a bulk of 1001 identities',
    route: 'bulk',
    body: JSON.stringify({
      identities: Array.from({ length: 1001 }, (_, i) => ({ id: `b${i}`, email: `b${i}@acme.test` })),
    }),
    status: 400,
    field: 'identities',
  },
  {
    name: 'a text/plain bulk',
    route: 'bulk',
    body: JSON.stringify({ identities: [ok] }),
    status: 415,
    headers: { 'content-type': 'text/plain' },
  },
  {
    name: '__proto__ in a bulk identity',
    route: 'bulk',
    body: `{"identities": [{"email": "a@b.co", "__proto__": {"polluted": 1}}]}`,
    status: 400,
    field: 'identities.0.__proto__',
  },
  {
    name: 'a bulk identity with a bad MRR',
    route: 'bulk',
    body: JSON.stringify({ identities: [{ ...ok, account: { id: 'a', monthly_rate: 'lots' } }] }),
    status: 400,
    field: 'account.monthly_rate',
  },
];

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

function send(route: Route, body: string | Buffer, headers: Record<string, string> = {}) {
  if (route === 'bulk') {
    return post(`${c.url}/api/v2/admin/bulk_identify`, body, {
      'content-type': 'application/json',
      authorization: `Bearer ${c.adminKey}`,
      ...headers,
    });
  }
  return post(`${c.url}/api/widget/v1/demo/${route}`, body, { origin: c.url, ...headers });
}

const protoSnapshot = () => ({
  names: Object.getOwnPropertyNames(Object.prototype).sort(),
  polluted: ({} as any).polluted,
  isAdmin: ({} as any).isAdmin,
});

describe('the malformed-input corpus', () => {
  it('has at least 40 payloads', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
  });

  it.each(corpus)(
    'refuses $name with $status, names the field and writes nothing',
    async ({ route = 'identify', body, status, field, headers }) => {
      const proto = protoSnapshot();
      const before = await stored(c, 'demo');
      const res = await send(route, body, headers);
      expect(res.status).toBe(status);
      expect(res.json.errors.type).toBe(ERROR_TYPES[status]);
      expect(typeof res.json.errors.message).toBe('string');
      if (field !== undefined) {
        const fields: string[] = (res.json.errors.details ?? []).map((d: { field: string }) => d.field);
        expect(
          fields.some((f) => (typeof field === 'string' ? f === field : field.test(f))),
          `fields: ${fields.join(', ')}`,
        ).toBe(true);
      }
      expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+|node_modules/);
      expect(await stored(c, 'demo')).toEqual(before);
      expect(protoSnapshot()).toEqual(proto);
    },
  );
});

describe('accepted oddities', () => {
  it('applies duplicate ids in one batch as one person, the later observation winning', async () => {
    const res = await post(
      `${c.url}/api/widget/v1/demo/identify`,
      JSON.stringify({
        sent_at: T,
        identities: [
          { message_id: 'dup-2', observed_at: T, id: 'dup', email: 'dup@acme.test', name: 'Later' },
          { message_id: 'dup-1', observed_at: T - 1000, id: 'dup', email: 'dup@acme.test', name: 'Earlier' },
        ],
      }),
      { origin: c.url },
    );
    expect(res.status).toBe(202);
    await c.collector.intake.drained();
    expect((await c.collector.store.getPending('demo', 'dup'))!.profile.f.name).toBe('Later');
  });

  it('never stores a time in the future when the browser clock is years off', async () => {
    const years = 5 * 365 * 24 * 3600 * 1000;
    for (const [id, skew] of [
      ['skew-ahead', years],
      ['skew-behind', -years],
    ] as const) {
      const browserNow = Date.now() + skew;
      const res = await post(
        `${c.url}/api/widget/v1/demo/identify`,
        JSON.stringify({
          sent_at: Math.max(0, browserNow),
          identities: [
            { message_id: `m-${id}`, observed_at: Math.max(0, browserNow - 5000), id, email: `${id}@acme.test` },
          ],
        }),
        { origin: c.url },
      );
      expect(res.status).toBe(202);
      await c.collector.intake.drained();
      const at = (await c.collector.store.getPending('demo', id))!.profile.v.email[1];
      expect(at).toBeLessThanOrEqual(Date.now());
      // Corrected by the skew: about five seconds before the request, not years off.
      expect(Date.now() - at).toBeLessThan(60_000);
    }
  });
});

describe('random hostile JSON', () => {
  const dangerous = fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '\\u005f_proto__',
    'cf___proto__',
    'toString',
    'hasOwnProperty',
    'valueOf',
  );
  const key = fc.oneof(
    dangerous,
    fc.constantFrom('id', 'email', 'name', 'account', 'monthly_rate', 'cf_x', 'identities', 'sent_at', 'message_id'),
    fc.string({ maxLength: 8 }),
  );
  const leaf = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom('ann@acme.test', '1e999', '99.50'),
  );
  // JSON text with keys written raw, so escaped and duplicate keys reach the parser as sent.
  const value: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf.map((l) => JSON.stringify(l) ?? 'null'),
      fc.array(tie('v'), { maxLength: 4 }).map((a) => `[${a.join(',')}]`),
      fc
        .array(fc.tuple(key, tie('v')), { maxLength: 5 })
        .map((kv) => `{${kv.map(([k, v]) => `"${k.replace(/"/g, '')}":${v}`).join(',')}}`),
    ),
  })).v;
  const body = fc.oneof(
    value,
    fc
      .tuple(fc.array(fc.tuple(key, value), { maxLength: 5 }))
      .map(
        ([extra]) =>
          `{"sent_at":${T},"identities":[{"message_id":"p1","observed_at":${T},"email":"p@acme.test"${extra.map(([k, v]) => `,"${k.replace(/"/g, '')}":${v}`).join('')}}]}`,
      ),
  );

  it('never answers 5xx and never pollutes Object.prototype', async () => {
    const proto = protoSnapshot();
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom<Route>('identify', 'feedback', 'bulk'), async (text, route) => {
        const res = await send(route, text);
        expect(res.status).toBeLessThan(500);
        expect(res.json?.errors?.type ?? res.json?.status ?? res.json?.feedback).toBeDefined();
        expect(protoSnapshot()).toEqual(proto);
      }),
      { numRuns: 150 },
    );
    await c.collector.intake.drained();
    expect(protoSnapshot()).toEqual(proto);
  }, 60_000);
});
