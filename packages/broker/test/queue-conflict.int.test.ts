/**
 * A queue that exists with other arguments (here: without priorities) is refused by RabbitMQ
 * with PRECONDITION_FAILED, every time. That refusal belongs to its one subscription: the other
 * functions of the worker keep consuming across a reconnection, the refused one is logged and
 * retried until the queue is fixed, and at start-up it is a QueueConflictError, not an outage.
 */
import amqp from 'amqplib';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startTcpProxy, useTestNamespace, waitFor, type TcpProxy } from '@drover/testing';
import { createWorker, type Worker } from '@drover/worker';
import { QueueConflictError, createAmqpBroker, queueName, type AmqpBroker } from '../src/index.js';
import { consumersOf, deleteTopology, recordingLogger } from './helpers.js';

const ns = useTestNamespace();
const url = (): string => inject('droverServices').amqpUrl;
const GOOD = 'conflict.good';
const BAD = 'conflict.bad';
const opened: { close(): Promise<void> }[] = [];
let proxy: TcpProxy | undefined;

afterAll(async () => {
  for (const o of opened.reverse()) await o.close();
  await proxy?.close();
  await deleteTopology(url(), ns.namespace, [GOOD, BAD]);
});

async function broker(via: string, name: string, logger = recordingLogger()): Promise<AmqpBroker> {
  const made = await createAmqpBroker({ url: via, namespace: ns.namespace, connectionName: `${name}-${ns.namespace}`, logger });
  opened.push(made);
  return made;
}

/** Replaces BAD's queue by one without priorities, as another deployment might have declared it. */
async function declareConflicting(): Promise<void> {
  const raw = await amqp.connect(url());
  try {
    // The worker redeclares a deleted queue after a backoff; should it win the race, delete again.
    await waitFor(
      async () => {
        const channel = await raw.createChannel();
        channel.on('error', () => undefined);
        try {
          await channel.deleteQueue(queueName(ns.namespace, BAD));
          await channel.assertQueue(queueName(ns.namespace, BAD), { durable: true, arguments: { 'x-queue-type': 'classic' } });
          await channel.close();
          return true;
        } catch {
          return false;
        }
      },
      { what: 'the conflicting queue declared' },
    );
  } finally {
    await raw.close().catch(() => undefined);
  }
}

async function deleteQueue(funcname: string): Promise<void> {
  const raw = await amqp.connect(url());
  try {
    await (await raw.createChannel()).deleteQueue(queueName(ns.namespace, funcname));
  } finally {
    await raw.close();
  }
}

async function enqueueOn(producer: AmqpBroker, funcname: string): Promise<string> {
  const { id } = await ns.store.insert({ funcname });
  await producer.publish([{ funcname, jobId: id, priority: 0 }]);
  return id;
}

const completed = (id: string) => async () => (await ns.store.getJob(id))?.state === 'completed';

describe('a queue that exists with other arguments', () => {
  it('stalls only its own subscription across a reconnection, is retried, and is consumed once fixed', async () => {
    proxy = await startTcpProxy(url());
    const logger = recordingLogger();
    const workerBroker = await broker(proxy.url, 'conflict-worker', logger);
    const producer = await broker(url(), 'conflict-producer');
    const worker: Worker = createWorker({
      store: ns.store,
      broker: workerBroker,
      // BAD first: its subscription is opened first on every connection, so failing the whole
      // setup on it would leave GOOD with no consumer at all.
      functions: { [BAD]: { handler: () => undefined }, [GOOD]: { handler: () => undefined } },
    });
    opened.push({ close: () => worker.stop() });
    await worker.start();
    await waitFor(completed(await enqueueOn(producer, GOOD)), { what: 'a job before the conflict' });

    await declareConflicting();
    // The connection drops; its next setup meets the refused queue while opening every subscription.
    proxy.reset();
    const good = await enqueueOn(producer, GOOD);
    await waitFor(completed(good), { what: "the other function's job after the reconnection", timeoutMs: 20_000 });
    await waitFor(() => logger.lines.some((l) => l.level === 'warn' && (l.fields.funcnames as string[] | undefined)?.includes(BAD) && String(l.fields.err).includes(queueName(ns.namespace, BAD)) && String(l.fields.err).includes('other arguments')), {
      what: 'a log line naming the refused queue and why',
    });
    await waitFor(() => logger.lines.some((l) => l.message.includes('consuming again failed; retrying')), { what: 'the refused subscription retried' });

    await deleteQueue(BAD);
    await waitFor(async () => (await consumersOf(url(), ns.namespace, BAD)) === 1, { what: 'the fixed queue declared and consumed', timeoutMs: 20_000 });
    const bad = await enqueueOn(producer, BAD);
    await waitFor(completed(bad), { what: "the once-refused function's job" });
  });

  it('refuses a subscription at start-up with a QueueConflictError naming the queue', async () => {
    await declareConflicting();
    const fresh = await broker(url(), 'conflict-start');
    const subscribing = fresh.consume([BAD], 1, () => undefined);
    await expect(subscribing).rejects.toBeInstanceOf(QueueConflictError);
    await expect(subscribing).rejects.toThrow(queueName(ns.namespace, BAD));
    await deleteQueue(BAD);
  });
});
