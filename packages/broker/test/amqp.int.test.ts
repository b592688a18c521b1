import amqp from 'amqplib';
import { describe, expect, inject, it } from 'vitest';
import { closeBrokerConnections, testNamespaceName, waitFor } from '@drover/testing';
import { createAmqpBroker, exchangeName, queueName } from '../src/index.js';
import { describeBrokerConformance } from './conformance.js';

describeBrokerConformance('RabbitMQ', async () => {
  const url = inject('droverServices').amqpUrl;
  const namespace = testNamespaceName();
  const strangerNamespace = testNamespaceName();
  const broker = await createAmqpBroker({ url, namespace, connectionName: 'conformance' });
  const peer = await createAmqpBroker({ url, namespace, connectionName: 'conformance-peer' });
  const stranger = await createAmqpBroker({ url, namespace: strangerNamespace, connectionName: 'conformance-stranger' });
  const raw = await amqp.connect(url);
  const channel = await raw.createConfirmChannel();
  return {
    broker,
    peer,
    stranger,
    publishRaw: async (funcname, body) => {
      channel.publish(exchangeName(namespace), funcname, Buffer.from(body), { persistent: true });
      await channel.waitForConfirms();
    },
    cleanup: async (funcnames) => {
      for (const ns of [namespace, strangerNamespace]) {
        for (const f of funcnames) await channel.deleteQueue(queueName(ns, f));
        await channel.deleteExchange(exchangeName(ns));
      }
      await raw.close();
    },
  };
});

describe('RabbitMQ recovery', () => {
  it('reconnects after the broker drops its connection, resuming consumers and publishing', async () => {
    const url = inject('droverServices').amqpUrl;
    const namespace = testNamespaceName();
    const connectionName = `recovery-${namespace}`;
    const broker = await createAmqpBroker({ url, namespace, connectionName });
    const funcname = 'recovery.f';
    try {
      const got: string[] = [];
      await broker.consume([funcname], 10, (d) => {
        got.push(d.body);
        d.ack();
      });
      await broker.publish([{ funcname, jobId: '1', priority: 0 }]);
      await waitFor(() => got.length === 1, { what: 'the first delivery' });

      expect(await closeBrokerConnections(connectionName)).toBe(1);
      // Published while the connection is down or coming back: waits for it, then is confirmed.
      await broker.publish([{ funcname, jobId: '2', priority: 0 }]);
      await waitFor(() => got.includes('2'), { what: 'a delivery after reconnecting', timeoutMs: 20_000 });
      expect(got).toEqual(['1', '2']);
    } finally {
      const raw = await amqp.connect(url);
      const channel = await raw.createChannel();
      await channel.deleteQueue(queueName(namespace, funcname));
      await channel.deleteExchange(exchangeName(namespace));
      await raw.close();
      await broker.close();
    }
  });
});
