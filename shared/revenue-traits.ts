/**
 * Which trait carries an account's monthly revenue when identities come from another tool's
 * traits (Segment events on the /v1 routes, docs/API.md#the-v1-routes; a page's Segment or
 * Intercom identity): a site may name one (`sites set --revenue-trait`), else these are read,
 * first present wins. No dependencies, so the widget can import it too.
 */
export interface RevenueTrait {
  name: string;
  unit: 'dollars' | 'cents';
}

export const DEFAULT_REVENUE_TRAITS: readonly RevenueTrait[] = [
  { name: 'monthly_spend', unit: 'dollars' },
  { name: 'monthlySpend', unit: 'dollars' },
  { name: 'mrr', unit: 'dollars' },
  { name: 'mrr_cents', unit: 'cents' },
];
