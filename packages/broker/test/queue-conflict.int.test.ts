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
import { createAmqpBroker, deleteBrokerNamespace, QueueConflictError, queueName, type AmqpBroker } from '../src/index.js';
import { consumersOf, recordingLogger } from './helpers.js';

const ns = useTestNamespace();
const url = (): string => inject('droverServices').amqpUrl;
const GOOD = 'conflict.good';
const BAD = 'conflict.bad';
/** The same pair in a slot group: one channel, shared by both consumers. */
const GROUP_GOOD = 'conflict.group.good';
const GROUP_BAD = 'conflict.group.bad';
const opened: { close(): Promise<void> }[] = [];
let proxy: TcpProxy | undefined;

afterAll(async () => {
  for (const o of opened.reverse()) await o.close();
  await proxy?.close();
  await deleteBrokerNamespace({ url: url(), namespace: ns.namespace, funcnames: [GOOD, BAD, GROUP_GOOD, GROUP_BAD] });
});

async function broker(via: string, name: string, logger = recordingLogger()): Promise<AmqpBroker> {
  const made = await createAmqpBroker({ url: via, namespace: ns.namespace, connectionName: `${name}-${ns.namespace}`, logger });
  opened.push(made);
  return made;
}

/** Replaces a queue by one without priorities, as another deployment might have declared it. */
async function declareConflicting(funcname = BAD): Promise<void> {
  const raw = await amqp.connect(url());
  try {
    // The worker redeclares a deleted queue after a backoff; should it win the race, delete again.
    await waitFor(
      async () => {
        const channel = await raw.createChannel();
        channel.on('error', () => undefined);
        try {
          await channel.deleteQueue(queueName(ns.namespace, funcname));
          await channel.assertQueue(queueName(ns.namespace, funcname), { durable: true, arguments: { 'x-queue-type': 'classic' } });
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
  async function refusedAcrossReconnection(bad: string, good: string, grouped: boolean): Promise<void> {
    proxy ??= await startTcpProxy(url());
    const logger = recordingLogger();
    const workerBroker = await broker(proxy.url, `conflict-worker-${bad}`, logger);
    const producer = await broker(url(), `conflict-producer-${bad}`);
    const group = grouped ? { group: 'pair' } : {};
    const worker: Worker = createWorker({
      store: ns.store,
      broker: workerBroker,
      ...(grouped ? { slotGroups: { pair: 4 } } : {}),
      // The refused one first: its subscription (or consumer) is opened first on every
      // connection, so failing the whole setup or channel on it would leave the other with none.
      functions: { [bad]: { ...group, handler: () => undefined }, [good]: { ...group, handler: () => undefined } },
    });
    opened.push({ close: () => worker.stop() });
    await worker.start();
    await waitFor(completed(await enqueueOn(producer, good)), { what: 'a job before the conflict' });

    await declareConflicting(bad);
    // The connection drops; its next setup meets the refused queue while opening every subscription.
    proxy.reset();
    await waitFor(completed(await enqueueOn(producer, good)), { what: "the other function's job after the reconnection", timeoutMs: 20_000 });
    await waitFor(
      () => logger.lines.some((l) => l.level === 'warn' && (l.fields.funcnames as string[] | undefined)?.includes(bad) && String(l.fields.err).includes(queueName(ns.namespace, bad)) && String(l.fields.err).includes('other arguments')),
      { what: 'a log line naming the refused queue and why' },
    );
    await waitFor(() => logger.lines.some((l) => l.message.includes('consuming again failed; retrying')), { what: 'the refused subscription retried' });

    await deleteQueue(bad);
    await waitFor(async () => (await consumersOf(url(), ns.namespace, bad)) === 1, { what: 'the fixed queue declared and consumed', timeoutMs: 20_000 });
    await waitFor(completed(await enqueueOn(producer, bad)), { what: "the once-refused function's job" });
  }

  it('stalls only its own subscription across a reconnection, is retried, and is consumed once fixed', async () => {
    await refusedAcrossReconnection(BAD, GOOD, false);
  });

  it('in a slot group, stalls only its own consumer on the shared channel, and is consumed once fixed', async () => {
    await refusedAcrossReconnection(GROUP_BAD, GROUP_GOOD, true);
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
