/**
 * RabbitMQ blocked by a resource alarm: publishing rejects at once instead of hanging, a worker
 * goes on claiming and completing what is already queued, the relay and the broker stop within a
 * bound, and publishing works again once the alarm clears.
 *
 * Sets a broker-wide alarm: run under the EXCLUSIVE lock
 * (`flock -x /tmp/drover-svc.lock npx vitest run test/e2e/broker-alarm.e2e.test.ts`). The alarm
 * is cleared in `finally`, pass or fail.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createAmqpBroker, deleteBrokerNamespace } from '@drover/broker';
import { Relay } from '@drover/controller';
import { useTestNamespace, waitFor } from '@drover/testing';
import { createWorker } from '@drover/worker';

const run = promisify(execFile);
const ALARM = '{resource_limit, memory, node()}';
/** rabbitmqctl boots an Erlang VM per call: a few seconds when the machine is busy. */
const CTL_TIMEOUT_MS = 60_000;
/** Longer than any bounded wait here (close 3 s), far shorter than a hang. */
const BOUND_MS = 15_000;

const ns = useTestNamespace();
const url = (): string => inject('droverServices').amqpUrl;
const funcname = 'alarm.f';

async function rabbitEval(expr: string): Promise<void> {
  await run('rabbitmqctl', ['eval', expr, '-q'], { timeout: CTL_TIMEOUT_MS });
}

/** Resolves 'done' when `work` settles, or 'hung' after BOUND_MS. */
async function within(work: Promise<unknown>): Promise<'done' | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), BOUND_MS)));
  const outcome = await Promise.race([work.then(() => 'done' as const, () => 'done' as const), hung]);
  clearTimeout(timer);
  return outcome;
}

afterAll(async () => {
  await deleteBrokerNamespace({ url: url(), namespace: ns.namespace, funcnames: [funcname] });
});

describe('RabbitMQ resource alarm', () => {
  it('refuses publishes at once, stalls no claim, lets the relay and the broker stop, and publishes again once cleared', async () => {
    // Confirms would wait a minute: a rejection that comes sooner comes from the blocked state.
    const producer = await createAmqpBroker({ url: url(), namespace: ns.namespace, connectionName: `alarm-producer-${ns.namespace}`, confirmTimeoutMs: 60_000 });
    const relayBroker = await createAmqpBroker({ url: url(), namespace: ns.namespace, connectionName: `alarm-relay-${ns.namespace}`, confirmTimeoutMs: 60_000 });
    const doomed = await createAmqpBroker({ url: url(), namespace: ns.namespace, connectionName: `alarm-doomed-${ns.namespace}`, confirmTimeoutMs: 60_000 });
    const workerBroker = await createAmqpBroker({ url: url(), namespace: ns.namespace, connectionName: `alarm-worker-${ns.namespace}` });
    const worker = createWorker({ store: ns.store, broker: workerBroker, functions: { [funcname]: { slots: 2, handler: () => undefined } } });
    const heard: boolean[] = [];
    producer.onBlocked((blocked) => heard.push(blocked));
    try {
      // Six jobs wait in the queue before the alarm; every publisher has its connection open.
      const queued = await Promise.all(Array.from({ length: 6 }, () => ns.store.insert({ funcname })));
      await producer.publish(queued.map(({ id }) => ({ funcname, jobId: id, priority: 0 })));
      await doomed.publish([]);
      await doomed.queueDepth(funcname);
      await relayBroker.queueDepth(funcname);

      await rabbitEval(`rabbit_alarm:set_alarm({${ALARM}, []}).`);
      try {
        const extra = await ns.store.insert({ funcname });
        await expect(producer.publish([{ funcname, jobId: extra.id, priority: 0 }])).rejects.toThrow(/blocked/);
        expect(heard).toContain(true);
        // Once known, the blocked state refuses at once, without a round trip.
        await expect(producer.publish([{ funcname, jobId: extra.id, priority: 0 }])).rejects.toThrow(/publishing refused/);

        // Claims do not stall: the worker's connection only consumes, so the broker still reads its acks.
        await worker.start();
        for (const { id } of queued) await waitFor(async () => (await ns.store.getJob(id))?.state === 'completed', { what: `queued job ${id} completed during the alarm`, timeoutMs: BOUND_MS });

        // The relay tries to publish the ready job, fails, and still stops; a broker closes.
        const relay = new Relay({ store: ns.store, broker: relayBroker, sweepMs: 100 });
        await relay.start();
        await waitFor(() => relay.leading, { what: 'the relay leading' });
        await waitFor(() => relay.totals.errors > 0, { what: 'the relay failing to publish', timeoutMs: BOUND_MS });
        expect(await within(relay.stop())).toBe('done');
        await doomed.publish([{ funcname, jobId: extra.id, priority: 0 }]).catch(() => undefined);
        expect(await within(doomed.close())).toBe('done');
      } finally {
        await rabbitEval(`rabbit_alarm:clear_alarm(${ALARM}).`);
      }

      await waitFor(() => heard.at(-1) === false, { what: 'the producer hearing the connection unblocked', timeoutMs: BOUND_MS });
      const after = await ns.store.insert({ funcname });
      await producer.publish([{ funcname, jobId: after.id, priority: 0 }]);
      await waitFor(async () => (await ns.store.getJob(after.id))?.state === 'completed', { what: 'a job published after the alarm cleared' });
    } finally {
      await worker.stop();
      await Promise.all([producer.close(), relayBroker.close(), workerBroker.close(), doomed.close()]);
    }
  });
});
