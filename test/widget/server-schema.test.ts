/**
 * The widget and the collector agree on the wire: what the widget sends is run through the
 * SERVER's own schemas (shared/identity.ts, its fast path, shared/wire.ts), so the widget's field
 * allow-list (widget/identity.ts) cannot drift from the server's.
 *
 * The widget does not validate what the page gives it (docs/API.md#the-identity-object: the
 * collector does, and names the field it refuses), so page inputs here are valid ones, with
 * values at their limits. What the widget produces itself — time zone, locale, page URL — is
 * fed beyond its limit, because cutting it to size is the widget's job.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accountSchema, identitySchema, locationSchema } from '../../shared/identity.ts';
import { safeParseIdentity } from '../../shared/identity-fast.ts';
import { LOCALE_MAX_CHARS, PAGE_URL_MAX_CHARS, TIMEZONE_MAX_CHARS } from '../../shared/limits.ts';
import { feedbackBody, widgetIdentifyBody, widgetItemMeta } from '../../shared/wire.ts';
import { environment } from '../../widget/identity.ts';
import { setup } from './harness.ts';
import { memoryStorage } from './fakes.ts';

const env = { timezone: 'America/Argentina/ComodRivadavia', locale: 'de-DE' };
const long = (n: number, c = 'x') => c.repeat(n);

/** Valid identities as a page would give them, each field kind at its edges. */
const INPUTS: Record<string, Record<string, unknown>> = {
  everyField: {
    id: 'u-1',
    email: 'ann@acme.test',
    name: 'Ann',
    type: 'Owner',
    created_at: 1364406966,
    app_version: '4.2.0',
    identity_token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig',
    user_hash: 'ab12CD',
    cf_persona: 'developer',
    account: {
      id: 'acme',
      name: 'Acme',
      plan: 'Team',
      created_at: 1364406966,
      monthly_rate: 99.5,
      ltv: 1495,
      cf_region: 'EU',
    },
    accounts: [{ id: 'globex', name: 'Globex', monthly_rate: 10, cf_region: 'US' }, { id: 'initech' }],
    location: { country: 'DE', region: 'BE', city: 'Berlin' },
  },
  longStrings: {
    id: long(255, 'i'),
    email: `${long(64, 'a')}@${long(180, 'b')}.test`,
    name: long(256, 'n'),
    type: long(128, 't'),
    app_version: long(64, 'v'),
    cf_long: long(1024, 'c'),
    account: { id: long(255, 'k'), name: long(256, 'n'), plan: long(256, 'p'), cf_note: long(1024, 'q') },
    location: { region: long(256, 'r'), city: long(256, 'c') },
  },
  numbersAndCase: {
    id: 0,
    email: '  Bob@ACME.Test ',
    created_at: 0,
    cf_seats: 12,
    cf_trial: false,
    cf_score: 0.5,
    account: { id: 9007199254740991, mrr_cents: 1_000_000_000, ltv_cents: 0, cf_paying: true },
    location: { country: 'de' },
  },
  moneyAsText: {
    email: 'carol@acme.test',
    created_at: '2024-01-01T00:00:00Z',
    account: { name: 'No id', monthly_rate: '99.50', ltv: '0', created_at: '2024-01-01' },
  },
  // A hundred traits is the server's cap; nulls and unknown fields are dropped on both sides.
  manyTraits: {
    email: 'dan@acme.test',
    name: null,
    password: 'never sent',
    ...Object.fromEntries(Array.from({ length: 100 }, (_, n) => [`cf_t${n}`, `v${n}`])),
    account: { id: 'big', monthly_rate: 10_000_000, plan: null },
    location: { country: null, city: 'Zürich 😀' },
  },
  pageOwnEnvironment: { email: 'eve@acme.test', timezone: 'Asia/Tokyo', locale: 'ja' },
};

const named = Object.entries(INPUTS);

/** What the widget puts on the wire for `raw`: the one item of the one identify request. */
async function sent(raw: unknown, environment: () => Record<string, string> = () => env) {
  const { client, sent } = setup([], memoryStorage(), { env: environment });
  client.identify(raw);
  await client.flush();
  expect(sent).toHaveLength(1);
  const body = sent[0].body;
  expect(widgetIdentifyBody.safeParse(body).success).toBe(true);
  return body.identities[0] as Record<string, unknown>;
}

/** Parses an item as the collector's identify route does: metadata, then schema and fast path. */
function parseOnServer(item: unknown) {
  expect(widgetItemMeta.safeParse(item).success).toBe(true);
  const slow = identitySchema.safeParse(item);
  expect(slow.error?.issues ?? []).toEqual([]);
  const fast = safeParseIdentity(item);
  expect(fast.success).toBe(true);
  expect(fast.data).toEqual(slow.data);
  return slow.data!;
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe("the widget's identities on the server's schema", () => {
  it.each(named)('%s: parses, and keeps everything the server would keep', async (_name, raw) => {
    const item = await sent(raw);
    // The widget dropped nothing the server accepts, and changed nothing it reads.
    expect(parseOnServer(item)).toEqual(identitySchema.parse({ ...env, ...raw }));
  });

  it('sends every field the server schema accepts', async () => {
    const items = await Promise.all(named.map(([, raw]) => sent(raw)));
    const keys = (pick: (i: Record<string, any>) => object | undefined) =>
      new Set(items.flatMap((i) => Object.keys(pick(i) ?? {})));
    const fields = (schema: { in: { shape: object } }) => Object.keys(schema.in.shape);
    expect(fields(identitySchema).filter((k) => !keys((i) => i).has(k))).toEqual([]);
    expect(fields(accountSchema).filter((k) => !keys((i) => i.account).has(k))).toEqual([]);
    expect(fields(locationSchema).filter((k) => !keys((i) => i.location).has(k))).toEqual([]);
    // Custom fields travel at the top and in the account.
    expect([...keys((i) => i)].some((k) => k.startsWith('cf_'))).toBe(true);
    expect([...keys((i) => i.account)].some((k) => k.startsWith('cf_'))).toBe(true);
  });

  it("cuts the browser's time zone and locale to the server's limits", async () => {
    const timeZone = `Etc/${long(100, 'z')}`;
    vi.spyOn(Intl, 'DateTimeFormat').mockImplementation((() => ({ resolvedOptions: () => ({ timeZone }) })) as never);
    vi.stubGlobal('navigator', { language: 'de-DE-u-co-phonebk-ca-gregory-nu-latn-hc-h23' });
    const item = await sent({ email: 'far@acme.test' }, environment);
    expect(item.timezone).toBe(timeZone.slice(0, TIMEZONE_MAX_CHARS));
    expect(item.locale).toHaveLength(LOCALE_MAX_CHARS);
    parseOnServer(item);
  });
});

describe("the widget's feedback on the server's schema", () => {
  it('sends each kind, with its identity and a page URL cut to the limit, as the server accepts it', async () => {
    const url = `https://app.test/${long(PAGE_URL_MAX_CHARS * 2, 'p')}`;
    const { client, sent } = setup([], memoryStorage(), { env: () => env, pageUrl: () => url });
    client.identify(named[0][1]);
    await client.sendFeedback({ kind: 'idea', title: 'Dark mode', body: 'Line one\nline two' });
    await client.sendFeedback({ kind: 'support', idea_id: 'i-1' });
    await client.sendFeedback({ kind: 'nps', score: 10 });
    client.logout();
    await client.sendFeedback({ kind: 'comment', body: 'Anonymous', email: 'Guest@X.test' });
    const feedback = sent.filter((s) => s.url.endsWith('/feedback')).map((s) => s.body);
    expect(feedback.map((f) => f.kind)).toEqual(['idea', 'support', 'nps', 'comment']);
    for (const f of feedback) {
      expect(f.page_url).toHaveLength(PAGE_URL_MAX_CHARS);
      const parsed = feedbackBody.safeParse(f);
      expect(parsed.error?.issues ?? []).toEqual([]);
    }
    expect(feedbackBody.parse(feedback[0]).identity).toEqual(identitySchema.parse({ ...env, ...named[0][1] }));
  });
});
