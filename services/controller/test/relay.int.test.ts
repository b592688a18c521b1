import { afterEach, describe, expect, it } from 'vitest';
import type { Broker, Delivery, Dispatch, Logger } from '@drover/core';
import { MemoryBroker } from '@drover/broker';
import { useTestNamespace, waitFor } from '@drover/testing';
import { Relay } from '../src/index.js';

const ns = useTestNamespace();
const relays: Relay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
});

function collect(broker: Broker, funcname: string): Promise<Delivery[]> {
  const got: Delivery[] = [];
  return broker.consume([funcname], 1000, (d) => {
    got.push(d);
    d.ack();
  }).then(() => got);
}

/** Runs `fn` with the insert trigger off: inserts send no NOTIFY, so only the relay's own looks find them. */
async function withoutInsertNotify(fn: () => Promise<void>): Promise<void> {
  await ns.pool.query('ALTER TABLE jobs DISABLE TRIGGER jobs_notify_inserted');
  try {
    await fn();
  } finally {
    await ns.pool.query('ALTER TABLE jobs ENABLE TRIGGER jobs_notify_inserted');
  }
}

async function startRelay(broker: Broker, options: Partial<ConstructorParameters<typeof Relay>[0]> = {}): Promise<Relay> {
  const relay = new Relay({ store: ns.store, broker, ...options });
  relays.push(relay);
  await relay.start();
  return relay;
}

describe('relay', () => {
  it('once asleep, is woken by NOTIFY: a job inserted then is published without waiting for a sweep', async () => {
    const broker = new MemoryBroker();
    const got = await collect(broker, 'relay.notify');
    // A sweep an hour away, and the relay past its busy polling, asleep: only the notification can wake it.
    await startRelay(broker, { sweepMs: 3_600_000 });
    await waitFor(async () => (await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sleeping_relays')).rows[0]?.n === 1, { what: 'the relay to sleep' });
    const { id } = await ns.store.insert({ funcname: 'relay.notify' });
    await waitFor(() => got.length === 1, { what: 'the published job' });
    expect(got[0]!.body).toBe(id);
    // Marked once the broker confirmed: the delivery may come first.
    await waitFor(async () => (await ns.store.getJob(id))?.state === 'dispatched', { what: 'the job marked dispatched' });
  });

  it('finds jobs by its sweep when no notification arrives', async () => {
    const broker = new MemoryBroker();
    const got = await collect(broker, 'relay.sweep');
    await withoutInsertNotify(async () => {
      await startRelay(broker, { sweepMs: 100 });
      const { id } = await ns.store.insert({ funcname: 'relay.sweep' });
      await waitFor(() => got.some((d) => d.body === id), { what: 'the swept job' });
    });
  });

  it('finds, soon after going to sleep, a job whose commit brought no NOTIFY', async () => {
    const broker = new MemoryBroker();
    const got = await collect(broker, 'relay.settle');
    // No NOTIFY at all, and a sweep an hour away: only the looks after the announcement can find it.
    await withoutInsertNotify(async () => {
      await startRelay(broker, { sweepMs: 3_600_000, settleLooksMs: [2_000, 2_000] });
      await waitFor(async () => (await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sleeping_relays')).rows[0]?.n === 1, { what: 'the relay to announce its sleep', intervalMs: 5 });
      const { id } = await ns.store.insert({ funcname: 'relay.settle' });
      await waitFor(() => got.some((d) => d.body === id), { what: 'the job, found by a later look' });
    });
  });

  it('does not publish, over and over, a ready job that another transaction holds', async () => {
    const broker = new MemoryBroker();
    const { id: held } = await ns.store.insert({ funcname: 'relay.held' });
    const other = await ns.pool.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [held]);
      const relay = await startRelay(broker, { sweepMs: 50 });
      // Other work still flows past it.
      const { id } = await ns.store.insert({ funcname: 'relay.held-beside' });
      await waitFor(async () => (await broker.queueDepth('relay.held-beside')) === 1, { what: 'the other job' });
      // Several more steps, each of which read the ready jobs, and none published the held one.
      const steps = relay.totals.steps;
      await waitFor(() => relay.totals.steps >= steps + 5, { what: 'five more relay steps', intervalMs: 5 });
      expect(await broker.queueDepth('relay.held')).toBe(0);
      expect((await ns.store.getJob(id))?.state).toBe('dispatched');
    } finally {
      await other.query('ROLLBACK');
      other.release();
    }
    await waitFor(async () => (await broker.queueDepth('relay.held')) === 1, { what: 'the job, once released' });
  });

  it('keeps jobs ready while the broker refuses them, and publishes them once it accepts', async () => {
    const memory = new MemoryBroker();
    let refusals = 3;
    const flaky: Broker = {
      publish: async (dispatches: readonly Dispatch[]) => {
        if (refusals-- > 0) throw new Error('broker unavailable');
        await memory.publish(dispatches);
      },
      consume: (f, p, cb) => memory.consume(f, p, cb),
      queueDepth: (f) => memory.queueDepth(f),
      onMessagesLost: (listener) => memory.onMessagesLost(listener),
      onBlocked: (listener) => memory.onBlocked(listener),
      close: () => memory.close(),
    };
    const got = await collect(memory, 'relay.flaky');
    const { id } = await ns.store.insert({ funcname: 'relay.flaky' });
    const relay = await startRelay(flaky, { sweepMs: 50, errorBackoffMs: [10, 40] });
    await waitFor(() => got.some((d) => d.body === id), { what: 'the job after the broker recovered' });
    expect(relay.totals.errors).toBe(3);
    expect(got.filter((d) => d.body === id)).toHaveLength(1);
  });

  it('publishes a lost message again, but not one that is still waiting in a queue at its bound', async () => {
    const broker = new MemoryBroker();
    const { id } = await ns.store.insert({ funcname: 'relay.lost' });
    // A bound of one: the waiting message fills its queue, so it gets no copy however stale it is.
    const relay = await startRelay(broker, { sweepMs: 50, staleMs: 200, maxInBrokerPerFunction: 1 });
    await waitFor(async () => (await broker.queueDepth('relay.lost')) === 1, { what: 'the first publication' });
    // Still waiting behind a backlog: the relay sees it stale several times and publishes no copy.
    await waitFor(() => relay.totals.staleHeld >= 3, { what: 'the stale job to be held back three times' });
    expect(relay.totals.republished).toBe(0);
    expect(await broker.queueDepth('relay.lost')).toBe(1);
    // The message is lost: consumed and acknowledged without the job ever being claimed.
    const lost: Delivery[] = [];
    const sub = await broker.consume(['relay.lost'], 1, (d) => {
      lost.push(d);
      d.ack();
    });
    await waitFor(() => lost.length === 1, { what: 'the message to be lost' });
    await sub.close();
    await waitFor(async () => (await broker.queueDepth('relay.lost')) === 1, { what: 'the message to be published again' });
    expect((await ns.store.getJob(id))?.state).toBe('dispatched');
  });

  it('drains a backlog bigger than one batch in one wake-up', async () => {
    const broker = new MemoryBroker();
    const got = await collect(broker, 'relay.backlog');
    await ns.store.insertMany(Array.from({ length: 250 }, () => ({ funcname: 'relay.backlog' })));
    await startRelay(broker, { batchSize: 100, sweepMs: 3_600_000 });
    await waitFor(() => got.length === 250, { what: 'the whole backlog' });
    expect(new Set(got.map((d) => d.body)).size).toBe(250);
  });

  it('publishes from one relay at a time; when the leader stops, another takes over', async () => {
    const broker = new MemoryBroker();
    const got = await collect(broker, 'relay.leader');
    const a = await startRelay(broker, { sweepMs: 50 });
    const b = await startRelay(broker, { sweepMs: 50 });
    await waitFor(() => a.leading || b.leading, { what: 'a leader' });
    const [leader, follower] = a.leading ? [a, b] : [b, a];
    await ns.store.insertMany(Array.from({ length: 300 }, () => ({ funcname: 'relay.leader' })));
    await waitFor(() => got.length >= 300, { what: 'the jobs' });
    expect(follower.totals.published).toBe(0);
    expect(new Set(got.map((d) => d.body)).size).toBe(got.length);
    await leader.stop();
    await waitFor(() => follower.leading, { what: 'the follower to take the lead' });
    const { id } = await ns.store.insert({ funcname: 'relay.leader' });
    await waitFor(() => got.some((d) => d.body === id), { what: 'the job published by the new leader' });
  });

  it('publishes again the jobs whose messages a broker restart lost, once the broker is back', async () => {
    const broker = new MemoryBroker();
    await startRelay(broker, { sweepMs: 50 });
    const ids = (await ns.store.insertMany(Array.from({ length: 20 }, () => ({ funcname: 'relay.restart' })))).map((r) => r.id);
    await waitFor(async () => (await broker.queueDepth('relay.restart')) === 20, { what: 'the first publication' });
    broker.simulateRestart();
    expect(await broker.queueDepth('relay.restart')).toBe(0);
    await waitFor(async () => (await broker.queueDepth('relay.restart')) === 20, { what: 'the messages to be published again' });
    const got: Delivery[] = [];
    await broker.consume(['relay.restart'], 100, (d) => {
      got.push(d);
      d.ack();
    });
    await waitFor(() => got.length === 20, { what: 'the deliveries' });
    expect(got.map((d) => d.body).sort()).toEqual([...ids].sort());
  });

  it('after reconnections that lost nothing, queues no copies for a function at its bound', async () => {
    const memory = new MemoryBroker();
    // The broker's word that messages may be lost, without losing any: a network blip.
    const lostListeners = new Set<() => void>();
    const broker: Broker = { ...brokerOver(memory), onMessagesLost: (listener) => (lostListeners.add(listener), () => lostListeners.delete(listener)) };
    const relay = await startRelay(broker, { sweepMs: 50, maxInBrokerPerFunction: 10 });
    await ns.store.insertMany(Array.from({ length: 30 }, () => ({ funcname: 'relay.blip' })));
    await waitFor(async () => (await memory.queueDepth('relay.blip')) === 10, { what: 'the queue to reach its bound' });
    for (let blip = 1; blip <= 3; blip++) {
      const { recoveries, steps } = relay.totals;
      lostListeners.forEach((listener) => listener());
      // The look for lost messages, then a step after it (which would publish any copies).
      await waitFor(() => relay.totals.recoveries > recoveries && relay.totals.steps > steps + 1, { what: 'the relay to look for lost messages and step again' });
      expect(await memory.queueDepth('relay.blip')).toBe(10);
    }
    const before = relay.totals.requeued;
    // A restart that did lose them: every dispatched job comes back, and the queue is full again.
    memory.simulateRestart();
    lostListeners.forEach((listener) => listener());
    await waitFor(async () => (await memory.queueDepth('relay.blip')) === 10, { what: 'the queue to be filled again' });
    expect(relay.totals.requeued - before).toBeGreaterThanOrEqual(10);
  });

  it('on taking the lead, publishes again the dispatched jobs of empty queues only', async () => {
    const broker = new MemoryBroker();
    const kept = (await ns.store.insertMany(Array.from({ length: 3 }, () => ({ funcname: 'relay.kept' })))).map((r) => r.id);
    const lost = (await ns.store.insertMany(Array.from({ length: 2 }, () => ({ funcname: 'relay.gone' })))).map((r) => r.id);
    // Dispatched while no relay of this test led: one queue kept its messages, the other lost them.
    await ns.store.dispatch(100, (jobs) => broker.publish(jobs.filter((j) => j.funcname === 'relay.kept').map((j) => ({ funcname: j.funcname, jobId: j.id, priority: j.priority }))));
    expect(await broker.queueDepth('relay.kept')).toBe(3);
    const relay = await startRelay(broker, { sweepMs: 50 });
    await waitFor(async () => (await broker.queueDepth('relay.gone')) === 2, { what: 'the lost messages to be published again' });
    expect(await broker.queueDepth('relay.kept')).toBe(3);
    // Jobs of earlier tests in this namespace count too (this broker never had their messages).
    expect(relay.totals.requeued).toBeGreaterThanOrEqual(2);
    for (const id of [...kept, ...lost]) expect((await ns.store.getJob(id))?.state).toBe('dispatched');
  });

  it('waits longer after each failed step, up to its bound, and says why', async () => {
    const memory = new MemoryBroker();
    const delays: number[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (fields: unknown) => {
        const retryInMs = (fields as { retryInMs?: number; err?: string }).retryInMs;
        if (retryInMs !== undefined) delays.push(retryInMs);
      },
      child: () => logger,
    };
    const refusing: Broker = { ...brokerOver(memory), publish: async () => Promise.reject(new Error('confirm deadline passed')) };
    await ns.store.insert({ funcname: 'relay.backoff' });
    await startRelay(refusing, { sweepMs: 50, errorBackoffMs: [10, 40], logger });
    await waitFor(() => delays.length >= 5, { what: 'five failed steps' });
    expect(delays.slice(0, 5)).toEqual([10, 20, 40, 40, 40]);
  });

  it('stops without waiting for a publish the broker never confirms, leaving its jobs ready', async () => {
    const memory = new MemoryBroker();
    let publishing = 0;
    // A broker that blocked the connection (a memory alarm, say): the confirm never comes.
    const stalled: Broker = { ...brokerOver(memory), publish: () => {
      publishing++;
      return new Promise<void>(() => undefined);
    } };
    const { id } = await ns.store.insert({ funcname: 'relay.stalled' });
    const relay = new Relay({ store: ns.store, broker: stalled, sweepMs: 50, stopWaitMs: 200 });
    await relay.start();
    await waitFor(() => publishing > 0, { what: 'the relay to start publishing' });
    await relay.stop();
    expect((await ns.store.getJob(id))?.state).toBe('ready');
  });
});

function brokerOver(memory: MemoryBroker): Broker {
  return {
    publish: (dispatches) => memory.publish(dispatches),
    consume: (f, p, cb) => memory.consume(f, p, cb),
    queueDepth: (f) => memory.queueDepth(f),
    onMessagesLost: (listener) => memory.onMessagesLost(listener),
    onBlocked: (listener) => memory.onBlocked(listener),
    close: () => memory.close(),
  };
}
