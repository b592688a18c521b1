/**
 * A half-open connection (a proxy that goes silent: no FIN, no RST) answers nothing until the
 * AMQP heartbeat notices, minutes later. Every wait of the broker on it must still end within
 * its configured deadline: cancelling and closing a subscription, the queue depth, a publish
 * (the first one abandons its channel, the next must open another) and closing the broker.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startTcpProxy, useTestNamespace, waitFor, type TcpProxy } from '@drover/testing';
import { createAmqpBroker, deleteBrokerNamespace, type AmqpBroker } from '../src/index.js';

const ns = useTestNamespace();
const url = (): string => inject('droverServices').amqpUrl;
const FUNC = 'halfopen.job';
/** Test-sized deadlines: short enough for a quick test, long enough for a busy shared machine to answer a healthy call. */
const CONFIRM_MS = 1_500;
const CLOSE_MS = 1_000;
const CONNECT_MS = 3_000;
/**
 * The bound each call must settle within: its deadline plus room for a busy machine, and still
 * far below the minute or more a wait on the heartbeat would take.
 */
const SLACK_MS = 5_000;
const opened: { close(): Promise<void> }[] = [];
let proxy: TcpProxy | undefined;

afterAll(async () => {
  for (const o of opened.reverse()) await o.close();
  await proxy?.close();
  await deleteBrokerNamespace({ url: url(), namespace: ns.namespace, funcnames: [FUNC] });
});

async function broker(via: string, name: string): Promise<AmqpBroker> {
  const made = await createAmqpBroker({
    url: via,
    namespace: ns.namespace,
    connectionName: `${name}-${ns.namespace}`,
    confirmTimeoutMs: CONFIRM_MS,
    closeTimeoutMs: CLOSE_MS,
    connectWaitMs: CONNECT_MS,
  });
  opened.push(made);
  return made;
}

/** 'settled' if `work` resolves or rejects within `ms`, else 'hung'. */
async function settles(work: Promise<unknown>, ms: number): Promise<'settled' | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  try {
    return await Promise.race([work.then(() => 'settled' as const, () => 'settled' as const), hung]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a half-open connection', () => {
  it('bounds cancel, close, queueDepth, publish and broker.close; a new broker works after the network heals', async () => {
    proxy = await startTcpProxy(url());
    const producer = await broker(proxy.url, 'halfopen-producer');
    const consumer = await broker(proxy.url, 'halfopen-consumer');
    const received: string[] = [];
    const first = await consumer.consume([FUNC], 4, (d) => {
      received.push(d.body);
      d.ack();
    });
    const second = await consumer.consume([FUNC], 4, () => undefined);
    await producer.publish([{ funcname: FUNC, jobId: '1', priority: 0 }]);
    await waitFor(() => received.length === 1, { what: 'the message through the proxy' });

    proxy.cut();
    expect(await settles(first.cancel(), CLOSE_MS + SLACK_MS)).toBe('settled');
    expect(await settles(first.close(), CLOSE_MS + SLACK_MS)).toBe('settled');
    expect(await settles(second.close(), CLOSE_MS + SLACK_MS)).toBe('settled');
    // The declaring channel is opened on the silent connection: without a deadline it waits for ever.
    const depth = producer.queueDepth(FUNC);
    expect(await settles(depth, CONFIRM_MS + SLACK_MS)).toBe('settled');
    await expect(depth).rejects.toThrow(/took longer than/);
    // The first publish times out and abandons its channel; the next one opens a new channel, which must be bounded too.
    for (const jobId of ['2', '3']) {
      const publishing = producer.publish([{ funcname: FUNC, jobId, priority: 0 }]);
      expect(await settles(publishing, CONFIRM_MS + SLACK_MS)).toBe('settled');
      await expect(publishing).rejects.toThrow();
    }
    expect(await settles(producer.close(), CLOSE_MS + SLACK_MS)).toBe('settled');
    expect(await settles(consumer.close(), CLOSE_MS + SLACK_MS)).toBe('settled');

    proxy.heal();
    const again = await broker(proxy.url, 'halfopen-again');
    const after: string[] = [];
    await again.consume([FUNC], 4, (d) => {
      after.push(d.body);
      d.ack();
    });
    await again.publish([{ funcname: FUNC, jobId: '4', priority: 0 }]);
    await waitFor(() => after.length > 0, { what: 'a message through the healed proxy' });
    expect(await again.queueDepth(FUNC)).toBeGreaterThanOrEqual(0);
  });
});
