/**
 * The relay's flow control and lost-message recovery against real PostgreSQL and RabbitMQ: what a
 * function holds in the broker is bounded whatever its backlog, one function's backlog does not
 * hold up another's jobs, and a message lost under a standing backlog comes back.
 */
import amqp from 'amqplib';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import type { Broker, NewJob } from '@drover/core';
import { createAmqpBroker, deleteBrokerNamespace, queueName } from '@drover/broker';
import { createWorker, type Worker } from '@drover/worker';
import { useTestNamespace, waitFor } from '@drover/testing';
import { DEFAULT_MAX_IN_BROKER, Relay } from '../src/index.js';

const ns = useTestNamespace();
const brokers: Broker[] = [];
const relays: Relay[] = [];
const workers: Worker[] = [];
const funcnames = new Set<string>();

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await Promise.all(relays.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()));
  await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, funcnames });
});

async function broker(name: string): Promise<Broker> {
  const made = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, connectionName: `relay-flow-${name}` });
  brokers.push(made);
  return made;
}

/** Inserts `count` jobs of `funcname` in batches of 5,000 (one statement each). */
async function insertJobs(funcname: string, count: number): Promise<void> {
  funcnames.add(funcname);
  for (let done = 0; done < count; done += 5_000) {
    const n = Math.min(5_000, count - done);
    await ns.store.insertMany(Array.from({ length: n }, (): NewJob => ({ funcname })));
  }
}

async function countState(funcname: string, state: string): Promise<number> {
  const { rows } = await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs WHERE funcname = $1 AND state = $2', [funcname, state]);
  return rows[0]!.n;
}

async function completed(funcname: string): Promise<number> {
  const { rows } = await ns.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM finished_jobs WHERE funcname = $1 AND state = 'completed'", [funcname]);
  return rows[0]!.n;
}

describe('relay flow control (RabbitMQ)', () => {
  it('keeps a 100,000-job backlog with no workers within its bound in RabbitMQ while another function runs to completion', async () => {
    await insertJobs('flow.backlog', 100_000);
    await insertJobs('flow.other', 2_000);
    const relayBroker = await broker('relay');
    const relay = new Relay({ store: ns.store, broker: relayBroker, sweepMs: 100 });
    relays.push(relay);
    await relay.start();
    const worker = createWorker({ store: ns.store, broker: await broker('worker'), functions: { 'flow.other': async () => 'ok' } });
    workers.push(worker);
    await worker.start();

    // Sample the backlog's queue depth, as RabbitMQ reports it, for as long as the other function runs.
    let maxDepth = 0;
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxDepth = Math.max(maxDepth, await relayBroker.queueDepth('flow.backlog'));
        samples++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    try {
      await waitFor(async () => (await completed('flow.other')) === 2_000, { what: "the other function's 2,000 jobs to complete", timeoutMs: 60_000, intervalMs: 50 });
      // The backlog did get its bound's worth into the broker, and no more.
      await waitFor(async () => (await relayBroker.queueDepth('flow.backlog')) === DEFAULT_MAX_IN_BROKER, { what: 'the backlog queue to fill to its bound' });
    } finally {
      sampling = false;
      await sampler;
    }
    expect(samples).toBeGreaterThan(10);
    expect(maxDepth).toBeLessThanOrEqual(DEFAULT_MAX_IN_BROKER);
    expect(await countState('flow.backlog', 'dispatched')).toBe(DEFAULT_MAX_IN_BROKER);
    expect(await countState('flow.backlog', 'ready')).toBe(100_000 - DEFAULT_MAX_IN_BROKER);
    expect(await relayBroker.queueDepth('flow.backlog')).toBe(DEFAULT_MAX_IN_BROKER);
  }, 180_000);

  it('refills a function held at its bound as its workers claim, without waiting for the sweep', async () => {
    const bound = 50;
    await insertJobs('flow.refill', 500);
    const relayBroker = await broker('relay-refill');
    // A sweep an hour away: only the relay's own looks can move the backlog past the first bound.
    const relay = new Relay({ store: ns.store, broker: relayBroker, sweepMs: 3_600_000, maxInBrokerPerFunction: bound });
    relays.push(relay);
    await relay.start();
    await waitFor(async () => (await relayBroker.queueDepth('flow.refill')) === bound, { what: 'the queue to fill to its bound' });
    const worker = createWorker({ store: ns.store, broker: await broker('worker-refill'), functions: { 'flow.refill': { slots: 8, handler: () => 'ok' } } });
    workers.push(worker);
    await worker.start();
    const finished = async (): Promise<number> => (await ns.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM finished_jobs WHERE funcname = 'flow.refill' AND state = 'completed'")).rows[0]!.n;
    await waitFor(async () => (await finished()) === 500, { what: 'the whole backlog to complete', timeoutMs: 30_000, intervalMs: 100 });
    // Each job published once: the looks refilled the room as it opened, nothing more.
    expect(relay.totals.published).toBe(500);
  });

  it('publishes again, and completes, a job whose message was lost under a standing backlog', async () => {
    const bound = 20;
    const staleMs = 1_000;
    const sweepMs = 100;
    const handlerMs = 20;
    await insertJobs('flow.lost', 2_000);
    const relayBroker = await broker('relay-lost');
    const relay = new Relay({ store: ns.store, broker: relayBroker, sweepMs, staleMs, maxInBrokerPerFunction: bound });
    relays.push(relay);
    await relay.start();
    await waitFor(async () => (await relayBroker.queueDepth('flow.lost')) === bound, { what: 'the queue to fill to its bound' });

    // Lose a message: take it off the queue and drop it, without claiming its job.
    const raw = await amqp.connect(inject('droverServices').amqpUrl);
    let lostId: string;
    try {
      const channel = await raw.createChannel();
      const message = await channel.get(queueName(ns.namespace, 'flow.lost'), { noAck: true });
      if (message === false) throw new Error('the queue had no message to lose');
      lostId = message.content.toString();
    } finally {
      await raw.close();
    }
    expect((await ns.store.getJob(lostId))?.state).toBe('dispatched');

    // A slow worker: the backlog stands (2,000 jobs at ~50/s) long after the lost job is due back.
    const lostAt = Date.now();
    const worker = createWorker({
      store: ns.store,
      broker: await broker('worker-lost'),
      functions: { 'flow.lost': { slots: 1, handler: () => new Promise((resolve) => setTimeout(() => resolve('ok'), handlerMs)) } },
    });
    workers.push(worker);
    await worker.start();

    // The documented bound: staleMs after its publication, a sweep, then at most `bound` messages ahead of it.
    const documentedBoundMs = staleMs + sweepMs + bound * handlerMs;
    await waitFor(async () => (await ns.store.getJob(lostId))?.state === 'completed', { what: 'the lost job to complete', timeoutMs: documentedBoundMs + 5_000, intervalMs: 20 });
    const tookMs = Date.now() - lostAt;
    // The backlog still stood: the job came back under it, not after it drained.
    expect(await countState('flow.lost', 'ready')).toBeGreaterThan(1_000);
    expect(relay.totals.republished).toBeGreaterThanOrEqual(1);
    process.stdout.write(`[relay-flow] lost message's job completed ${tookMs} ms after the loss (documented bound ${documentedBoundMs} ms plus scheduling)\n`);
  });
});
