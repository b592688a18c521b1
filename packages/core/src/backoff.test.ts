import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, backoffDelayMs, retryPolicy } from './backoff.js';
import { ValidationError } from './errors.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const noJitter = (): number => 0.5;

describe('backoffDelayMs', () => {
  it('doubles from 2 minutes and caps at exactly 1 day from the 11th failure', () => {
    const delays = Array.from({ length: 14 }, (_, i) => backoffDelayMs(i + 1, DEFAULT_RETRY_POLICY, noJitter));
    expect(delays.slice(0, 10)).toEqual([2, 4, 8, 16, 32, 64, 128, 256, 512, 1024].map((m) => m * MINUTE));
    expect(delays.slice(10)).toEqual([DAY, DAY, DAY, DAY]);
  });

  it('keeps jitter within ±10 % at both extremes of the random source', () => {
    for (const failure of [1, 5, 11, 30]) {
      const plain = backoffDelayMs(failure, DEFAULT_RETRY_POLICY, noJitter);
      const low = backoffDelayMs(failure, DEFAULT_RETRY_POLICY, () => 0);
      const high = backoffDelayMs(failure, DEFAULT_RETRY_POLICY, () => 0.999999);
      expect(low).toBe(Math.round(plain * 0.9));
      expect(high).toBeLessThanOrEqual(Math.round(plain * 1.1));
      expect(high).toBeGreaterThan(Math.round(plain * 1.09));
    }
  });

  it('spreads delays across the whole ±10 % band with the real random source', () => {
    const samples = Array.from({ length: 2000 }, () => backoffDelayMs(3, DEFAULT_RETRY_POLICY));
    const base = 8 * MINUTE;
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(base * 0.9);
    expect(Math.max(...samples)).toBeLessThanOrEqual(base * 1.1);
    // Spread check: a constant or near-constant delay would defeat the jitter's purpose.
    expect(Math.max(...samples) - Math.min(...samples)).toBeGreaterThan(base * 0.15);
  });

  it('uses a fixed delay when the function sets one', () => {
    const policy = retryPolicy({ fixedDelayMs: 5000, jitter: 0 });
    expect([1, 2, 10].map((n) => backoffDelayMs(n, policy))).toEqual([5000, 5000, 5000]);
  });

  it('stays finite for absurd failure counts', () => {
    expect(backoffDelayMs(10_000, DEFAULT_RETRY_POLICY, noJitter)).toBe(DAY);
  });

  it('rejects a failure number below 1', () => {
    expect(() => backoffDelayMs(0)).toThrow(ValidationError);
  });
});

describe('retryPolicy', () => {
  it('documents its default of 15 retries', () => {
    expect(retryPolicy().maxRetries).toBe(15);
  });

  it.each([
    [{ maxRetries: -1 }, 'maxRetries'],
    [{ maxRetries: 1.5 }, 'maxRetries'],
    [{ jitter: 1 }, 'jitter'],
    [{ baseDelayMs: 10, maxDelayMs: 5 }, 'maxDelayMs'],
    [{ fixedDelayMs: -3 }, 'fixedDelayMs'],
  ])('rejects %o naming %s', (overrides, field) => {
    expect(() => retryPolicy(overrides)).toThrow(expect.objectContaining({ field }));
  });
});
