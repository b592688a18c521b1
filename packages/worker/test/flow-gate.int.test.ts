/**
 * The flow gate's queue of deliveries waiting for a keyless rate limit's start, against the real
 * Redis: a burst of deliveries is granted in one ask (one round trip for the burst, not one per
 * delivery), far under the limit the next deliveries use spare starts without asking, deliveries
 * are served first come first served, and one that gives up or is stopped leaves the queue
 * without a start. The limits across worker processes: test/e2e/flow-limits.e2e.test.ts.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { silentLogger, type RateLimit, type StartsAnswer } from '@drover/core';
import { RedisFlowControl } from '@drover/flow-control';
import { freePort, testNamespaceName } from '@drover/testing';
import { FlowGate, type StartOutcome } from '../src/internal/flow-gate.js';
import { resolveFunctions, type ResolvedFunction } from '../src/options.js';

/** The real Redis flow control, counting the starts asked of it per call. */
class CountingFlowControl extends RedisFlowControl {
  readonly asks: number[] = [];

  override takeStarts(bucket: string, limit: RateLimit, count: number, spare?: number): Promise<StartsAnswer> {
    this.asks.push(count);
    return super.takeStarts(bucket, limit, count, spare);
  }
}

const namespace = testNamespaceName();
const opened: RedisFlowControl[] = [];
afterEach(async () => {
  for (const flow of opened.splice(0)) await flow.close();
});

async function counting(url = inject('droverServices').redisUrl): Promise<CountingFlowControl> {
  const flow = new CountingFlowControl({ url, namespace, commandTimeoutMs: 200 });
  opened.push(flow);
  return flow;
}

let n = 0;
/** A function of its own (its own bucket in Redis) with a keyless rate limit. */
function limited(max: number, perMs = 60_000): ResolvedFunction {
  return resolveFunctions({ [`gate.f${++n}`]: { handler: () => null, rateLimit: { max, perMs } } }).functions[0]!;
}

describe('starts taken before the claim', () => {
  it('grants a burst of deliveries in one ask', async () => {
    const flow = await counting();
    await flow.ready();
    const gate = new FlowGate(flow, false, silentLogger, Math.random);
    const fn = limited(1_000_000, 1000);
    const outcomes = await Promise.all(Array.from({ length: 16 }, () => gate.takeStartBeforeClaim(fn, Date.now() + 10_000, () => true)));
    expect(outcomes).toEqual(Array<StartOutcome>(16).fill('started'));
    expect(flow.asks).toEqual([16]);
  });

  it('far under the limit, takes a slot\'s worth of spare starts that the next deliveries use without asking', async () => {
    const flow = await counting();
    await flow.ready();
    const gate = new FlowGate(flow, false, silentLogger, Math.random);
    const fn = limited(1_000_000, 1000);
    expect(fn.slots).toBe(10);
    expect(await gate.takeStartBeforeClaim(fn, Date.now() + 10_000, () => true)).toBe('started');
    // The ten spares: the next ten deliveries start with no ask; the eleventh asks again.
    for (let i = 0; i < 10; i++) expect(await gate.takeStartBeforeClaim(fn, Date.now() + 10_000, () => true)).toBe('started');
    expect(flow.asks).toEqual([1]);
    expect(await gate.takeStartBeforeClaim(fn, Date.now() + 10_000, () => true)).toBe('started');
    expect(flow.asks).toEqual([1, 1]);
  });

  it('serves the window first come first served, and lets the rest expire at their deadline holding no start', async () => {
    const flow = await counting();
    await flow.ready();
    const gate = new FlowGate(flow, false, silentLogger, Math.random);
    const fn = limited(3);
    const order: number[] = [];
    const waiting = Array.from({ length: 5 }, (_, i) => gate.takeStartBeforeClaim(fn, Date.now() + 300, () => true).then((o) => (order.push(i), o)));
    expect(await Promise.all(waiting)).toEqual(['started', 'started', 'started', 'expired', 'expired']);
    expect(order.slice(0, 3)).toEqual([0, 1, 2]);
    // One ask for all five; the two left slept until their deadline and asked nothing more.
    expect(flow.asks).toEqual([5]);
    // The refused two took nothing: the window holds the three granted starts only.
    expect(await flow.takeStarts(fn.funcname, fn.flow!.rate!, 1)).toMatchObject({ granted: 0 });
  });

  it('lets a stopped delivery go without a start', async () => {
    const flow = await counting();
    await flow.ready();
    const gate = new FlowGate(flow, false, silentLogger, Math.random);
    const fn = limited(1);
    expect(await gate.takeStartBeforeClaim(fn, Date.now() + 10_000, () => true)).toBe('started');
    let running = true;
    const stopped = gate.takeStartBeforeClaim(fn, Date.now() + 500, () => running);
    // Refused (the window is full for a minute), it sleeps until its deadline at most; stopped
    // meanwhile, it is let go as stopped (its delivery goes back unclaimed), not as expired.
    await expect.poll(() => flow.asks.length).toBe(2);
    running = false;
    expect(await stopped).toBe('stopped');
    expect(flow.asks).toHaveLength(2);
  });

  it('without Redis, starts every waiting delivery when failing open, and holds them when failing closed', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const fn = limited(1);
    const open = new FlowGate(await counting(url), true, silentLogger, Math.random);
    expect(await Promise.all([1, 2, 3].map(() => open.takeStartBeforeClaim(fn, Date.now() + 10_000, () => true)))).toEqual(['started', 'started', 'started']);
    const closed = new FlowGate(await counting(url), false, silentLogger, Math.random);
    expect(await Promise.all([1, 2].map(() => closed.takeStartBeforeClaim(fn, Date.now() + 600, () => true)))).toEqual(['expired', 'expired']);
  });
});
