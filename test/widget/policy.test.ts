// @vitest-environment happy-dom
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BACKOFF_CAP_MS,
  BACKOFF_MIN_MS,
  backoff,
  classify,
  parseRetryAfter,
  retryDelay,
  RETRY_AFTER_CAP_MS,
} from '../../widget/policy.ts';

describe('classify', () => {
  it.each([
    [200, 'ok'],
    [201, 'ok'],
    [202, 'ok'],
    [0, 'retry'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [400, 'drop'],
    [401, 'drop'],
    [403, 'drop'],
    [404, 'drop'],
    [413, 'drop'],
    [415, 'drop'],
    [422, 'drop'],
    [501, 'drop'],
    [505, 'drop'],
    [301, 'drop'],
  ])('answers %i with %s', (status, outcome) => {
    expect(classify(status)).toBe(outcome);
  });
});

describe('backoff', () => {
  it('stays between the minimum and the cap for any attempt and any random draw', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        const d = backoff(attempt, () => r);
        return d >= BACKOFF_MIN_MS && d <= BACKOFF_CAP_MS;
      }),
    );
  });

  it('doubles its ceiling with each attempt until the cap', () => {
    const top = (n: number) => backoff(n, () => 0.999999);
    expect([0, 1, 2, 3].map(top)).toEqual([999, 1999, 3999, 7999]);
    expect(top(20)).toBe(BACKOFF_CAP_MS - 1);
  });
});

describe('Retry-After', () => {
  it('reads delta seconds', () => expect(parseRetryAfter('7', 0)).toBe(7000));
  it('reads an HTTP date', () => expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000));
  it('caps an absurd value', () => expect(parseRetryAfter('999999', 0)).toBe(RETRY_AFTER_CAP_MS));
  it('ignores garbage', () => expect(parseRetryAfter('soon', 0)).toBeNull());
  it('wins over backoff when present', () => {
    expect(retryDelay(5, '2', 0, () => 0.5)).toBe(2000);
    expect(retryDelay(0, null, 0, () => 0.5)).toBe(500);
  });
});
