/**
 * A job that runs past RabbitMQ's consumer timeout: the broker closes the worker's channel
 * (PRECONDITION_FAILED), the subscription comes back by itself, the job still completes once, and
 * the worker goes on consuming.
 *
 * Changes broker-wide settings: run under the EXCLUSIVE lock
 * (`flock -x /tmp/drover-svc.lock npx vitest run packages/broker/test/consumer-timeout.int.test.ts`).
 * RabbitMQ 3.10 checks the timeout on each channel's tick (`channel_tick_interval`, 60 s by
 * default), not continuously; both are read when a channel opens, so this test shortens both for
 * the channels it opens and restores them after, pass or fail.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { useTestNamespace, waitFor } from '@drover/testing';
import { createWorker } from '@drover/worker';
import { createAmqpBroker, deleteBrokerNamespace } from '../src/index.js';
import { recordingLogger, withRabbitSetting } from './helpers.js';

/** The test-sized consumer timeout: long enough for ordinary jobs here, far shorter than 30 min. */
const CONSUMER_TIMEOUT_MS = 2_000;
/** The channel tick that checks it: a fraction of the timeout, so the close comes soon after. */
const TICK_MS = 500;

const ns = useTestNamespace();
const url = (): string => inject('droverServices').amqpUrl;
const funcname = 'recover.long';

afterAll(async () => {
  await deleteBrokerNamespace({ url: url(), namespace: ns.namespace, funcnames: [funcname] });
});

describe('consumer timeout', () => {
  it('completes a job running past the consumer timeout, and goes on consuming jobs enqueued after it', async () => {
    await withRabbitSetting('channel_tick_interval', TICK_MS, () =>
      withRabbitSetting('consumer_timeout', CONSUMER_TIMEOUT_MS, async () => {
        const logger = recordingLogger();
        const workerBroker = await createAmqpBroker({ url: url(), namespace: ns.namespace, connectionName: `timeout-worker-${ns.namespace}`, logger });
        const producer = await createAmqpBroker({ url: url(), namespace: ns.namespace, connectionName: `timeout-producer-${ns.namespace}` });
        const channelClosed = (): boolean => logger.lines.some((l) => l.message === 'consumer channel closed by the broker' && /PRECONDITION_FAILED|timeout/i.test(String(l.fields.err)));
        const calls = new Map<string, number>();
        let longId = '';
        const worker = createWorker({
          store: ns.store,
          broker: workerBroker,
          logger,
          functions: {
            [funcname]: {
              slots: 2,
              // The long job holds its delivery unacked until the broker has closed the channel
              // over it, so the recovery path is what this test sees, whatever the worker acks.
              handler: async (job) => {
                calls.set(job.id, (calls.get(job.id) ?? 0) + 1);
                if (job.id === longId) await waitFor(channelClosed, { what: 'the broker closing the channel', timeoutMs: 60_000, intervalMs: 50 });
                return { id: job.id };
              },
            },
          },
        });
        try {
          await worker.start();
          longId = (await ns.store.insert({ funcname })).id;
          await producer.publish([{ funcname, jobId: longId, priority: 0 }]);
          await waitFor(async () => (await ns.store.getJob(longId))?.state === 'completed', { what: 'the long job completed', timeoutMs: 60_000 });
          expect(channelClosed()).toBe(true);

          const after = await Promise.all([1, 2, 3].map(() => ns.store.insert({ funcname })));
          await producer.publish(after.map(({ id }) => ({ funcname, jobId: id, priority: 0 })));
          for (const { id } of after) await waitFor(async () => (await ns.store.getJob(id))?.state === 'completed', { what: `job ${id} enqueued after the timeout`, timeoutMs: 20_000 });
          // The requeued copy of the long job's message met a refused claim: it ran once.
          expect(calls.get(longId)).toBe(1);
          expect(logger.lines.some((l) => l.message === 'consuming again')).toBe(true);
        } finally {
          await worker.stop();
          await Promise.all([workerBroker.close(), producer.close()]);
        }
      }),
    );
  });
});
