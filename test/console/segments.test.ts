/**
 * The console's segment filters as pure data (server/console/segments.ts, routes.ts): the URL
 * hash carries them and gives them back unchanged, each list is asked only the parameters it
 * takes, typed values become what the collector reads, and custom fields are offered from
 * their definitions.
 */
import { describe, expect, it } from 'vitest';
import { NpsPanel, trendPoints } from '../../server/console/NpsPanel.tsx';
import { parseRoute, routeHash } from '../../server/console/routes.ts';
import {
  addFilter,
  describeFilter,
  fieldsFor,
  filtersToSave,
  parseFilters,
  queryFor,
  removeFilter,
  toParamValue,
  type CustomFieldDef,
} from '../../server/console/segments.ts';

const defs: CustomFieldDef[] = [
  { key: 'cf_region', object: 'account', type: 'select', options: ['EU', 'US'] },
  { key: 'cf_persona', object: 'user', type: 'text' },
  { key: 'cf_beta', object: 'user', type: 'boolean' },
];

describe('filters in the URL hash', () => {
  it('round-trips filters through the hash, repeated values and awkward text included', () => {
    const filters = {
      'account.cf_region': ['EU', 'US'],
      'account.mrr_cents_gte': ['50000'],
      tag: ['a&b=c', 'späť #1'],
      segment: ['eu-enterprise'],
    };
    const r = { page: 'tab', tab: 'feedback', filters } as const;
    const hash = routeHash(r);
    expect(hash.startsWith('#feedback?')).toBe(true);
    expect(parseRoute(hash)).toEqual(r);
  });

  it('keeps a list without filters as a bare tab, and drops empty values', () => {
    expect(routeHash({ page: 'tab', tab: 'ideas', filters: {} })).toBe('#ideas');
    expect(parseRoute('#ideas')).toEqual({ page: 'tab', tab: 'ideas' });
    expect(parseRoute('#users?type=&=x')).toEqual({ page: 'tab', tab: 'users' });
    expect(parseRoute('#users?type=Owner&type=Owner')).toEqual({
      page: 'tab',
      tab: 'users',
      filters: { type: ['Owner'] },
    });
  });
});

describe('what each list is asked', () => {
  const f = { 'account.plan': ['Enterprise'], kind: ['idea'], type: ['Owner'], segment: ['s1'] };
  it('sends each list only the parameters it takes; the segment goes to all', () => {
    expect(queryFor('feedback', f)).toBe('account.plan=Enterprise&kind=idea&segment=s1&type=Owner');
    expect(queryFor('ideas', f)).toBe('account.plan=Enterprise&kind=idea&segment=s1&type=Owner');
    expect(queryFor('users', f)).toBe('account.plan=Enterprise&segment=s1&type=Owner');
    expect(queryFor('accounts', f)).toBe('account.plan=Enterprise&segment=s1');
  });

  it('adds "any of" values, replaces a range end, removes one value at a time', () => {
    let g = addFilter({}, 'account.plan', 'Pro');
    g = addFilter(g, 'account.plan', 'Enterprise');
    g = addFilter(g, 'account.plan', 'Pro');
    g = addFilter(g, 'account.mrr_cents_gte', '100');
    g = addFilter(g, 'account.mrr_cents_gte', '500');
    expect(addFilter(addFilter({}, 'as', 'then'), 'as', 'now')).toEqual({ as: ['now'] });
    expect(g).toEqual({ 'account.plan': ['Pro', 'Enterprise'], 'account.mrr_cents_gte': ['500'] });
    expect(removeFilter(removeFilter(g, 'account.plan', 'Pro'), 'account.mrr_cents_gte', '500')).toEqual({
      'account.plan': ['Enterprise'],
    });
  });

  it('makes typed values into parameter values: dollars to cents, scores 0-10, ISO dates', () => {
    expect(toParamValue('money', '$1,200.50')).toBe('120050');
    expect(toParamValue('money', '-3')).toBeNull();
    expect(toParamValue('money', 'lots')).toBeNull();
    expect(toParamValue('score', '10')).toBe('10');
    expect(toParamValue('score', '11')).toBeNull();
    expect(toParamValue('date', '2026-01-05')).toBe('2026-01-05');
    expect(toParamValue('date', 'yesterday')).toBeNull();
    expect(toParamValue('text', '  EU ')).toBe('EU');
    expect(toParamValue('text', '   ')).toBeNull();
  });

  it('saves a picked segment with the explicit filters over its own', () => {
    expect(
      filtersToSave({ segment: ['eu'], 'account.plan': ['Pro'] }, { 'account.plan': ['Enterprise'], type: ['Owner'] }),
    ).toEqual({ 'account.plan': ['Pro'], type: ['Owner'] });
  });
});

describe('fields offered', () => {
  it('offers custom fields from their definitions, with their options, on the lists that take them', () => {
    const feedback = fieldsFor('feedback', defs);
    const region = feedback.find((x) => x.ops[0].param === 'account.cf_region')!;
    expect(region.options).toEqual(['EU', 'US']);
    expect(feedback.find((x) => x.ops[0].param === 'cf_beta')!.options).toEqual(['true', 'false']);
    expect(feedback.find((x) => x.ops[0].param === 'cf_persona')!.options).toBeUndefined();
    const accounts = fieldsFor('accounts', defs).flatMap((x) => x.ops.map((o) => o.param));
    expect(accounts).toContain('account.cf_region');
    expect(accounts.every((p) => p.startsWith('account.'))).toBe(true);
    expect(fieldsFor('users', defs).flatMap((x) => x.ops.map((o) => o.param))).not.toContain('kind');
  });

  it('says what a chip filters on', () => {
    expect(describeFilter('account.cf_region', 'EU', defs)).toBe('Account region is EU');
    expect(describeFilter('account.mrr_cents_gte', '50000', defs)).toBe('Account MRR ≥ $500');
    expect(describeFilter('segment', 'eu', defs)).toBe('Segment eu');
    expect(describeFilter('as', 'then', defs)).toBe('Account as it was then');
  });
});

describe('NPS trend', () => {
  it('draws weeks left to right, +100 at the top and -100 at the bottom, skipping weeks without a score', () => {
    expect(
      trendPoints(
        [
          { week: '2026-01-05', score: 100, responses: 1 },
          { week: '2026-01-12', score: null, responses: 0 },
          { week: '2026-01-19', score: -100, responses: 1 },
        ],
        100,
        40,
      ),
    ).toBe('0,0 100,40');
    expect(trendPoints([], 100, 40)).toBe('');
    expect(typeof NpsPanel).toBe('function');
  });
});
