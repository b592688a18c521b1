import { describe, expect, inject, it } from 'vitest';
import { FlowControlUnavailable } from '@drover/core';
import { freePort, testNamespaceName } from '@drover/testing';
import { RedisFlowControl } from '../src/index.js';
import { describeFlowControlConformance } from './conformance.js';

const namespace = testNamespaceName();

describeFlowControlConformance('Redis', {
  make: async (clock, other) => {
    const flow = new RedisFlowControl({ url: inject('droverServices').redisUrl, namespace: other === undefined ? namespace : `${namespace}_${other}`, clock });
    await flow.ready();
    return flow;
  },
});

// The fleet's case: no clock given, so the scripts read Redis's own time.
describe('Redis on its own clock', () => {
  const url = (): string => inject('droverServices').redisUrl;

  it('counts starts and leases by Redis time', async () => {
    const flow = new RedisFlowControl({ url: url(), namespace });
    await flow.ready();
    const limit = { max: 2, perMs: 60_000 };
    expect(await flow.takeStart('own-clock', limit)).toEqual({ ok: true });
    expect(await flow.takeStart('own-clock', limit)).toEqual({ ok: true });
    const refused = await flow.takeStart('own-clock', limit);
    expect(refused.ok).toBe(false);
    expect(refused.ok ? 0 : refused.retryAfterMs).toBeGreaterThan(50_000);
    expect(refused.ok ? 0 : refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(await flow.takePlace('own-clock', 'a', 1, 30_000)).toEqual({ ok: true });
    await flow.renewPlaces([{ bucket: 'own-clock', holder: 'a' }], 30_000);
    const full = await flow.takePlace('own-clock', 'b', 1, 30_000);
    expect(full.ok).toBe(false);
    expect(full.ok ? 0 : full.retryAfterMs).toBeGreaterThan(20_000);
    await flow.close();
  });

  it('fails fast with FlowControlUnavailable when Redis is unreachable, and says so', async () => {
    const flow = new RedisFlowControl({ url: `redis://127.0.0.1:${await freePort()}` });
    expect(flow.available()).toBe(false);
    await expect(flow.takeStart('x', { max: 1, perMs: 1000 })).rejects.toBeInstanceOf(FlowControlUnavailable);
    await expect(flow.takePlace('x', 'h', 1, 1000)).rejects.toBeInstanceOf(FlowControlUnavailable);
    await expect(flow.ready(300)).rejects.toBeInstanceOf(FlowControlUnavailable);
    await flow.close();
  });
});
