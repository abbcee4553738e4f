/**
 * What an idea is worth: how many people support it, from how many distinct accounts, and the
 * total MRR of those accounts (each account counted once, at its current MRR).
 */
import type { Idea } from './records.ts';
import type { Store } from './store.ts';

export interface IdeaStats {
  supporters_count: number;
  accounts_count: number;
  mrr_cents: number;
}

export async function ideaStats(store: Store, site: string, idea: Idea): Promise<IdeaStats> {
  const supporters = new Set<string>();
  const accounts = new Map<string, number>();
  for (const f of await store.feedbackForIdea(site, idea.id)) {
    if (f.kind !== 'idea' && f.kind !== 'support') continue;
    supporters.add(f.user_id ?? `anonymous:${f.id}`);
    if (f.account_key && !accounts.has(f.account_key)) {
      const account = await store.getAccount(site, f.account_key);
      const mrr = account?.profile.f.mrr_cents;
      accounts.set(f.account_key, typeof mrr === 'number' ? mrr : (f.mrr_cents_at ?? 0));
    }
  }
  let mrr_cents = 0;
  for (const m of accounts.values()) mrr_cents += m;
  return { supporters_count: supporters.size, accounts_count: accounts.size, mrr_cents };
}

/**
 * Whether the idea's title contains every word of `q` (case-insensitive). Titles only: the public
 * search answers anyone with the site key, and a body is the private text of someone's feedback.
 */
export function matchesTitle(idea: Idea, q: string): boolean {
  const hay = idea.title.toLowerCase();
  return q
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}
