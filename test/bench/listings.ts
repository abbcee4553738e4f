/**
 * How user and account listings cost at 100k users on the memory store (what the embedded
 * store lists from): prints milliseconds per call, no assertions. Run:
 * `npx tsx test/bench/listings.ts [users]`.
 */
import { importUsers } from '../../server/core/imports.ts';
import { MemoryStore } from '../../server/engines/embedded/memory-store.ts';
import { importUserSchema } from '../../shared/imports.ts';

const N = Number(process.argv[2] ?? 100_000);
const SITE = 'bench';
const store = new MemoryStore();

let t = performance.now();
for (let start = 0; start < N; start += 1000) {
  const records = Array.from({ length: Math.min(1000, N - start) }, (_, j) => {
    const i = start + j;
    return importUserSchema.parse({
      external_id: `b-${i}`,
      email: `user${i}@bench.test`,
      name: `User ${(i * 7919) % N}`,
      type: i % 10 ? 'Member' : 'Owner',
      tags: i % 100 ? [] : ['vip'],
      account: { external_id: `acct-${i % 500}`, mrr_cents: (i % 500) * 100 },
    });
  });
  await importUsers(store, SITE, records, 1_000_000 + start);
}
console.log(`imported ${N} users through importUsers in ${(performance.now() - t).toFixed(0)} ms`);

async function time(label: string, fn: () => Promise<unknown>, runs = 20) {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  console.log(`${label.padEnd(44)} ${((performance.now() - t0) / runs).toFixed(2)} ms/call`);
}

const last = Math.ceil(N / 100);
await time('users, first page', () => store.listUsers(SITE, { page: 1, perPage: 100 }));
await time(`users, last page (${last})`, () => store.listUsers(SITE, { page: last, perPage: 100 }));
await time('users, q=user4242', () => store.listUsers(SITE, { page: 1, perPage: 100, q: 'user4242' }));
await time('users, tag=vip', () => store.listUsers(SITE, { page: 1, perPage: 100, tag: 'vip' }));
await time('users, account=acct-7&type=Owner', () =>
  store.listUsers(SITE, { page: 1, perPage: 100, account: 'acct-7', type: 'Owner' }),
);
await time('users, sort=-name, middle page', () =>
  store.listUsers(SITE, { page: Math.ceil(last / 2), perPage: 100, sort: '-name' }),
);
await time('accounts, sort=-mrr_cents', () => store.listAccounts(SITE, { page: 1, perPage: 20, sort: '-mrr_cents' }));
t = performance.now();
const page = await store.listAccounts(SITE, { page: 1, perPage: 20, sort: '-mrr_cents' });
for (const a of page.items) await store.accountCounts(SITE, a.key);
console.log(`${'accounts page of 20 with users/feedback counts'.padEnd(44)} ${(performance.now() - t).toFixed(2)} ms`);
