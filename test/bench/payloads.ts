/**
 * Request bodies for the benchmarks: realistic identities (docs/API.md#embedding example's shape,
 * ~400 bytes each), distinct in every request. A body is built once per batch size as a
 * template and a per-request serial is substituted, so generating load costs the client little.
 */

const MARK = '#R#';

/** One identity; `tag` makes its id and email unique. */
export function identity(tag: string, i: number): Record<string, unknown> {
  return {
    id: `u-${tag}-${i}`,
    email: `person.${tag}.${i}@example-${i % 97}.test`,
    name: `Person ${i} of ${tag}`,
    created_at: 1364406966 + i,
    type: i % 3 === 0 ? 'Owner' : 'Member',
    cf_persona: i % 2 === 0 ? 'developer' : 'manager',
    account: {
      id: `acct-${i % 50}`,
      name: `Account ${i % 50}`,
      created_at: 1364406966,
      monthly_rate: 99.5,
      ltv: 1495,
      plan: 'Team',
      cf_region: 'EU',
    },
    app_version: '4.2.0',
    location: { country: 'DE', region: 'BE', city: 'Berlin' },
  };
}

/** A bulk_identify body factory: each call returns `n` identities never sent before. */
export function bulkBodies(n: number, prefix = 'b'): () => string {
  const template = JSON.stringify({ identities: Array.from({ length: n }, (_, i) => identity(`${prefix}${MARK}`, i)) });
  let serial = 0;
  return () => template.replaceAll(MARK, String(++serial));
}

/** A widget identify body factory (text/plain JSON, message ids, observed_at). */
export function widgetBodies(n: number, prefix = 'w'): () => string {
  const now = Date.now();
  const template = JSON.stringify({
    sent_at: now,
    identities: Array.from({ length: n }, (_, i) => ({
      ...identity(`${prefix}${MARK}`, i),
      message_id: `m-${prefix}${MARK}-${i}`,
      observed_at: now - 50,
    })),
  });
  let serial = 0;
  return () => template.replaceAll(MARK, String(++serial));
}
