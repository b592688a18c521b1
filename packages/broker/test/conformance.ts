/**
 * The broker conformance suite: what Drover relies on from any dispatcher. Both adapters run it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Broker, Delivery } from '@drover/core';
import { waitFor } from '@drover/testing';

export interface BrokerHarness {
  /** A broker on a fresh namespace. */
  broker: Broker;
  /** A second broker on the same namespace (another process, as far as the broker can tell). */
  peer: Broker;
  /** A broker on another namespace. */
  stranger: Broker;
  /** Publishes a body that is not a Drover message. */
  // Function-typed properties, not methods: they are closures the tests destructure from the harness.
  publishRaw: (funcname: string, body: string) => Promise<void>;
  cleanup: (funcnames: string[]) => Promise<void>;
  /** Makes `broker` lose its connection and come back, as a broker restart would. */
  loseMessages: () => Promise<void>;
  /**
   * Blocks (a reason) or unblocks (null) `broker`'s publishing, as a resource alarm does. Absent
   * where that touches a shared service (RabbitMQ's alarm is node-wide: see broker-alarm.e2e.test.ts).
   */
  block?: (reason: string | null) => Promise<void>;
}

export function describeBrokerConformance(name: string, makeHarness: () => Promise<BrokerHarness>, features: { block: boolean } = { block: false }): void {
  describe(`broker conformance: ${name}`, () => {
    const used: string[] = [];
    let harness: BrokerHarness | undefined;
    const h = async (): Promise<BrokerHarness> => (harness ??= await makeHarness());
    const fn = (label: string): string => {
      const f = `conf.${label}.${used.length}`;
      used.push(f);
      return f;
    };
    const collect = (into: Delivery[], settle?: 'ack') => (d: Delivery) => {
      into.push(d);
      if (settle === 'ack') d.ack();
    };

    afterAll(async () => {
      if (!harness) return;
      await harness.cleanup(used);
      await Promise.all([harness.broker.close(), harness.peer.close(), harness.stranger.close()]);
    });

    it("delivers each job id to its function's consumers only", async () => {
      const { broker } = await h();
      const a = fn('route-a');
      const b = fn('route-b');
      const got: Delivery[] = [];
      const other: Delivery[] = [];
      await broker.consume([a], 10, collect(got, 'ack'));
      await broker.consume([b], 10, collect(other, 'ack'));
      await broker.publish([1, 2, 3].map((i) => ({ funcname: a, jobId: String(i), priority: 0 })));
      await waitFor(() => got.length === 3, { what: 'three deliveries' });
      expect(got.map((d) => d.body).sort()).toEqual(['1', '2', '3']);
      expect(got.every((d) => d.funcname === a && !d.redelivered)).toBe(true);
      // A marker for the other function, published after those were confirmed: a copy routed to it
      // by mistake would wait in its queue ahead of the marker and arrive first.
      await broker.publish([{ funcname: b, jobId: '4', priority: 0 }]);
      await waitFor(() => other.length === 1, { what: "the other function's marker" });
      expect(other.map((d) => d.body)).toEqual(['4']);
    });

    it('keeps a message published before any consumer exists', async () => {
      const { broker, peer } = await h();
      const f = fn('early');
      await broker.publish([{ funcname: f, jobId: '7', priority: 0 }]);
      const got: Delivery[] = [];
      await peer.consume([f], 1, collect(got, 'ack'));
      await waitFor(() => got.length === 1, { what: 'the early message' });
      expect(got[0]!.body).toBe('7');
    });

    it('never hands out more than prefetch unacknowledged deliveries', async () => {
      const { broker } = await h();
      const f = fn('prefetch');
      const got: Delivery[] = [];
      await broker.consume([f], 3, collect(got));
      await broker.publish(Array.from({ length: 10 }, (_, i) => ({ funcname: f, jobId: String(i + 1), priority: 0 })));
      await waitFor(() => got.length === 3, { what: 'three deliveries' });
      // The witness that no more are coming: the other seven wait in the queue (a depth counts only
      // messages not handed out), where a broker that over-delivered would have taken them from.
      await waitFor(async () => (await broker.queueDepth(f)) === 7, { what: 'seven messages left waiting' });
      expect(got).toHaveLength(3);
      got[0]!.ack();
      await waitFor(() => got.length === 4, { what: 'a fourth delivery after an ack' });
      await waitFor(async () => (await broker.queueDepth(f)) === 6, { what: 'six messages left waiting' });
      expect(got).toHaveLength(4);
    });

    it('shares one prefetch across the functions of a slot group', async () => {
      const { broker } = await h();
      const a = fn('group-a');
      const b = fn('group-b');
      await broker.publish([
        ...Array.from({ length: 5 }, (_, i) => ({ funcname: a, jobId: String(i + 1), priority: 0 })),
        ...Array.from({ length: 5 }, (_, i) => ({ funcname: b, jobId: String(i + 11), priority: 0 })),
      ]);
      const got: Delivery[] = [];
      await broker.consume([a, b], 4, collect(got));
      await waitFor(() => got.length === 4, { what: 'four deliveries' });
      // The other six wait in their queues, not handed out: the budget is shared, not per queue.
      await waitFor(async () => (await broker.queueDepth(a)) + (await broker.queueDepth(b)) === 6, { what: 'six messages left waiting' });
      expect(got).toHaveLength(4);
    });

    it('redelivers a requeued message, marked as redelivered, and drops a rejected one', async () => {
      const { broker } = await h();
      const f = fn('nack');
      const got: Delivery[] = [];
      await broker.consume([f], 5, (d) => {
        got.push(d);
        if (d.redelivered) d.ack();
        else d.nack(d.body === '1');
      });
      await broker.publish([{ funcname: f, jobId: '1', priority: 0 }, { funcname: f, jobId: '2', priority: 0 }]);
      await waitFor(() => got.some((d) => d.redelivered), { what: 'a redelivery' });
      // A marker published after both were settled: had the rejected one been requeued, it would be
      // back in the queue ahead of the marker and delivered first. (The handler drops the marker too.)
      await broker.publish([{ funcname: f, jobId: '3', priority: 0 }]);
      await waitFor(() => got.some((d) => d.body === '3'), { what: 'the marker' });
      expect(got.map((d) => `${d.body}:${d.redelivered}`).sort()).toEqual(['1:false', '1:true', '2:false', '3:false']);
    });

    it('gives what a closed consumer left unsettled to another consumer', async () => {
      const { broker, peer } = await h();
      const f = fn('handover');
      const first: Delivery[] = [];
      const sub = await broker.consume([f], 2, collect(first));
      await broker.publish([{ funcname: f, jobId: '5', priority: 0 }, { funcname: f, jobId: '6', priority: 0 }]);
      await waitFor(() => first.length === 2, { what: 'two deliveries' });
      first[0]!.ack();
      const second: Delivery[] = [];
      await peer.consume([f], 2, collect(second, 'ack'));
      await sub.close();
      await waitFor(() => second.length === 1, { what: 'the unsettled message at the other consumer' });
      expect(second[0]).toMatchObject({ body: first[1]!.body, redelivered: true });
      // Settling a delivery of a closed consumer is harmless.
      expect(() => first[1]!.ack()).not.toThrow();
    });

    it('delivers waiting messages highest priority first', async () => {
      const { broker } = await h();
      const f = fn('priority');
      await broker.publish([
        { funcname: f, jobId: '1', priority: -100 },
        { funcname: f, jobId: '2', priority: 0 },
        { funcname: f, jobId: '3', priority: 100 },
        { funcname: f, jobId: '4', priority: 0 },
      ]);
      const got: Delivery[] = [];
      await broker.consume([f], 1, (d) => {
        got.push(d);
        d.ack();
      });
      await waitFor(() => got.length === 4, { what: 'four deliveries' });
      expect(got.map((d) => d.body)).toEqual(['3', '2', '4', '1']);
    });

    it('keeps namespaces apart', async () => {
      const { broker, stranger } = await h();
      const f = fn('tenant');
      const theirs: Delivery[] = [];
      await stranger.consume([f], 5, collect(theirs, 'ack'));
      const mine: Delivery[] = [];
      await broker.consume([f], 5, collect(mine, 'ack'));
      await broker.publish([{ funcname: f, jobId: '9', priority: 0 }]);
      await waitFor(() => mine.length === 1, { what: 'the delivery in our namespace' });
      // The other namespace's own marker, published after ours was confirmed: a copy of ours routed
      // to it would wait in its queue ahead of the marker and arrive first.
      await stranger.publish([{ funcname: f, jobId: '10', priority: 0 }]);
      await waitFor(() => theirs.length === 1, { what: "the other namespace's marker" });
      expect(theirs.map((d) => d.body)).toEqual(['10']);
      expect(mine.map((d) => d.body)).toEqual(['9']);
    });

    it('reports how many messages wait in a queue', async () => {
      const { broker } = await h();
      const f = fn('depth');
      expect(await broker.queueDepth(f)).toBe(0);
      await broker.publish([1, 2, 3].map((i) => ({ funcname: f, jobId: String(i), priority: 0 })));
      await waitFor(async () => (await broker.queueDepth(f)) === 3, { what: 'a depth of 3' });
      const got: Delivery[] = [];
      await broker.consume([f], 5, collect(got, 'ack'));
      await waitFor(() => got.length === 3, { what: 'the deliveries' });
      await waitFor(async () => (await broker.queueDepth(f)) === 0, { what: 'an empty queue' });
    });

    it('delivers foreign bodies as they are, for the consumer to judge', async () => {
      const { broker, publishRaw } = await h();
      const f = fn('foreign');
      const got: Delivery[] = [];
      await broker.consume([f], 5, collect(got, 'ack'));
      await publishRaw(f, 'not a job id \u{1F4A5}');
      await waitFor(() => got.length === 1, { what: 'the foreign message' });
      expect(got[0]!.body).toBe('not a job id \u{1F4A5}');
    });

    it('tells onMessagesLost listeners of a lost connection, until they unsubscribe', async () => {
      const { broker, loseMessages } = await h();
      const f = fn('lost');
      await broker.publish([{ funcname: f, jobId: '1', priority: 0 }]);
      let kept = 0;
      let dropped = 0;
      broker.onMessagesLost(() => kept++);
      const unsubscribe = broker.onMessagesLost(() => dropped++);
      await loseMessages();
      await waitFor(() => kept === 1, { what: 'the first loss heard', timeoutMs: 20_000 });
      unsubscribe();
      await loseMessages();
      await waitFor(() => kept === 2, { what: 'the second loss heard', timeoutMs: 20_000 });
      expect(dropped).toBe(1);
    });

    // Defined only where the harness can block: RabbitMQ's alarm is node-wide, so its adapter shows
    // this in broker-alarm.e2e.test.ts, under the exclusive lock.
    if (features.block) it('refuses publishes while blocked, keeps delivering, and publishes again once unblocked', async () => {
      const { broker, block } = await h();
      const f = fn('blocked');
      const got: Delivery[] = [];
      await broker.consume([f], 5, collect(got, 'ack'));
      await broker.publish([{ funcname: f, jobId: '1', priority: 0 }]);
      const heard: [boolean, string | null][] = [];
      const unsubscribe = broker.onBlocked((blocked, reason) => heard.push([blocked, reason]));
      await block!('memory alarm');
      await expect(broker.publish([{ funcname: f, jobId: '2', priority: 0 }])).rejects.toThrow(/blocked/);
      await waitFor(() => got.length === 1, { what: 'the message published before the block' });
      await block!(null);
      unsubscribe();
      await block!('again');
      await block!(null);
      expect(heard).toEqual([
        [true, 'memory alarm'],
        [false, null],
      ]);
      await broker.publish([{ funcname: f, jobId: '3', priority: 0 }]);
      await waitFor(() => got.length === 2, { what: 'a message published after the block' });
      expect(got.map((d) => d.body)).toEqual(['1', '3']);
    });
  });
}
