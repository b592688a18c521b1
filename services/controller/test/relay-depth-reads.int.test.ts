/**
 * What a relay step costs the broker: queue depths are read only by the look for stale jobs, once
 * per sweep interval and once per function, however many steps a burst takes. Counted on a wrapper
 * of the real RabbitMQ broker, with time moved by hand.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ManualClock, type Broker, type NewJob } from '@drover/core';
import { createAmqpBroker, deleteBrokerNamespace } from '@drover/broker';
import { useTestNamespace } from '@drover/testing';
import { Relay } from '../src/index.js';

const ns = useTestNamespace();
const FUNCNAMES = ['depth.a', 'depth.b'];
let real: Broker | undefined;

afterAll(async () => {
  await real?.close();
  await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, funcnames: FUNCNAMES });
});

/** The real broker, counting queueDepth calls per function. */
function countingDepthReads(broker: Broker): { broker: Broker; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  return {
    reads,
    broker: {
      publish: (dispatches) => broker.publish(dispatches),
      consume: (funcnames, prefetch, onDelivery) => broker.consume(funcnames, prefetch, onDelivery),
      queueDepth: (funcname) => {
        reads.set(funcname, (reads.get(funcname) ?? 0) + 1);
        return broker.queueDepth(funcname);
      },
      onMessagesLost: (listener) => broker.onMessagesLost(listener),
      onBlocked: (listener) => broker.onBlocked(listener),
      close: () => broker.close(),
    },
  };
}

describe('relay depth reads (RabbitMQ)', () => {
  it('reads each function\'s queue depth once per look for stale jobs, not once per step of a burst', async () => {
    const sweepMs = 1_000;
    const staleMs = 60_000;
    const clock = new ManualClock(Date.now());
    const store = ns.createStore({ clock });
    real = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, connectionName: `relay-depth-${ns.namespace}` });
    const { broker, reads } = countingDepthReads(real);
    // Steps driven by hand (the relay is not started): its looks for stale jobs follow the clock alone.
    const relay = new Relay({ store, broker, clock, batchSize: 100, sweepMs, staleMs, maxInBrokerPerFunction: 10_000 });
    const insert = (count: number) => store.insertMany(FUNCNAMES.flatMap((funcname) => Array.from({ length: count }, (): NewJob => ({ funcname }))));
    const burst = async (): Promise<number> => {
      let steps = 0;
      while ((await relay.step()) > 0) steps++;
      return steps;
    };

    // Dispatched, never consumed (no workers): stale once staleMs has passed.
    await insert(50);
    expect(await burst()).toBeGreaterThanOrEqual(1);
    // Nothing was stale yet: the ready jobs alone need no depth.
    expect(reads.size).toBe(0);

    clock.advance(staleMs);
    await insert(1_000);
    // 2,000 ready jobs, 100 a step: a burst of at least 20 steps, the first of which looks for stale jobs.
    expect(await burst()).toBeGreaterThanOrEqual(20);
    expect(relay.totals.republished).toBe(100);
    expect(Object.fromEntries(reads)).toEqual({ 'depth.a': 1, 'depth.b': 1 });

    // A sweep interval later the relay looks again, but nothing is stale yet: no read.
    clock.advance(sweepMs);
    await relay.step();
    expect(Object.fromEntries(reads)).toEqual({ 'depth.a': 1, 'depth.b': 1 });
    // Once they are stale again, the next look reads each depth once more.
    clock.advance(staleMs);
    await relay.step();
    expect(Object.fromEntries(reads)).toEqual({ 'depth.a': 2, 'depth.b': 2 });
  });
});
