/**
 * A subscription comes back by itself when the broker ends its consumer while the connection
 * lives: here, a queue deleted under a running worker (the broker cancels the consumer).
 */
import amqp from 'amqplib';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { useTestNamespace, waitFor } from '@drover/testing';
import { createWorker, type Worker } from '@drover/worker';
import { createAmqpBroker, deleteBrokerNamespace, queueName, type AmqpBroker } from '../src/index.js';
import { consumersOf, recordingLogger } from './helpers.js';

const ns = useTestNamespace();
const url = (): string => inject('droverServices').amqpUrl;
const funcnames = ['recover.deleted', 'recover.neighbour'];
const opened: { close(): Promise<void> }[] = [];

afterAll(async () => {
  for (const o of opened.reverse()) await o.close();
  await deleteBrokerNamespace({ url: url(), namespace: ns.namespace, funcnames });
});

async function broker(name: string, logger = recordingLogger()): Promise<AmqpBroker> {
  const made = await createAmqpBroker({ url: url(), namespace: ns.namespace, connectionName: `${name}-${ns.namespace}`, logger });
  opened.push(made);
  return made;
}

async function enqueueOn(producer: AmqpBroker, funcname: string): Promise<string> {
  const { id } = await ns.store.insert({ funcname });
  await producer.publish([{ funcname, jobId: id, priority: 0 }]);
  return id;
}

const completed = (id: string) => async () => (await ns.store.getJob(id))?.state === 'completed';

describe('subscription recovery', () => {
  it('declares and consumes again a queue deleted under a running worker; jobs enqueued afterwards complete', async () => {
    const logger = recordingLogger();
    const workerBroker = await broker('recover-worker', logger);
    const producer = await broker('recover-producer');
    const ran: string[] = [];
    // A slot group: both functions share one channel, and only one of them loses its queue.
    const worker: Worker = createWorker({
      store: ns.store,
      broker: workerBroker,
      slotGroups: { pair: 4 },
      functions: {
        'recover.deleted': { group: 'pair', handler: (job) => void ran.push(job.id) },
        'recover.neighbour': { group: 'pair', handler: (job) => void ran.push(job.id) },
      },
    });
    opened.push({ close: () => worker.stop() });
    await worker.start();

    const before = await enqueueOn(producer, 'recover.deleted');
    await waitFor(completed(before), { what: 'a job before the queue is deleted' });

    const raw = await amqp.connect(url());
    try {
      await (await raw.createChannel()).deleteQueue(queueName(ns.namespace, 'recover.deleted'));
    } finally {
      await raw.close();
    }
    // The worker declares the queue again and consumes it: without that, it would stay absent.
    await waitFor(async () => (await consumersOf(url(), ns.namespace, 'recover.deleted')) === 1, { what: 'the deleted queue declared again, with its consumer', timeoutMs: 15_000 });
    expect(logger.lines.some((l) => l.message.includes('the broker cancelled the consumer'))).toBe(true);

    const after = await enqueueOn(producer, 'recover.deleted');
    const neighbour = await enqueueOn(producer, 'recover.neighbour');
    await waitFor(completed(after), { what: 'a job enqueued after the queue came back' });
    await waitFor(completed(neighbour), { what: "the neighbour's job on the same channel" });
    expect(ran.sort()).toEqual([before, after, neighbour].sort());
  });
});
