import amqp from 'amqplib';
import { describe, expect, inject, it } from 'vitest';
import { closeBrokerConnections, testNamespaceName, waitFor } from '@drover/testing';
import { createAmqpBroker, exchangeName, queueName } from '../src/index.js';
import { describeBrokerConformance } from './conformance.js';

describeBrokerConformance('RabbitMQ', async () => {
  const url = inject('droverServices').amqpUrl;
  const namespace = testNamespaceName();
  const strangerNamespace = testNamespaceName();
  const brokerName = `conformance-${namespace}`;
  const broker = await createAmqpBroker({ url, namespace, connectionName: brokerName });
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
    loseMessages: async () => {
      // The loss is told when the publishing connection comes back.
      if ((await closeBrokerConnections(`${brokerName}:publish`)) !== 1) throw new Error('no publishing connection to close');
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

      let lost = 0;
      broker.onMessagesLost(() => lost++);
      // Publishing and consuming have a connection each; the broker drops both.
      expect(await closeBrokerConnections(connectionName)).toBe(1);
      expect(await closeBrokerConnections(`${connectionName}:publish`)).toBe(1);
      // Published while the connection is down or coming back: waits for it, then is confirmed.
      await broker.publish([{ funcname, jobId: '2', priority: 0 }]);
      await waitFor(() => got.includes('2'), { what: 'a delivery after reconnecting', timeoutMs: 20_000 });
      expect(got).toEqual(['1', '2']);
      // The publishing connection came back: transient messages may have been lost.
      expect(lost).toBe(1);
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

describe('RabbitMQ topology errors', () => {
  it('refuses a publish to a queue declared elsewhere with other arguments, and keeps publishing to the others', async () => {
    const url = inject('droverServices').amqpUrl;
    const namespace = testNamespaceName();
    const raw = await amqp.connect(url);
    const channel = await raw.createChannel();
    // Declared by someone else as a quorum queue: our classic declaration with priorities must fail.
    await channel.assertQueue(queueName(namespace, 'topo.bad'), { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const broker = await createAmqpBroker({ url, namespace, connectionName: `topology-${namespace}` });
    try {
      await expect(broker.publish([{ funcname: 'topo.bad', jobId: '1', priority: 0 }])).rejects.toThrow(/cannot declare queue/);
      const got: string[] = [];
      await broker.consume(['topo.good'], 5, (d) => {
        got.push(d.body);
        d.ack();
      });
      await broker.publish([{ funcname: 'topo.good', jobId: '2', priority: 0 }]);
      await broker.publish([{ funcname: 'topo.good', jobId: '3', priority: 0 }]);
      await waitFor(() => got.length === 2, { what: 'deliveries after the refused declaration' });
      expect(got).toEqual(['2', '3']);
    } finally {
      await broker.close();
      for (const f of ['topo.bad', 'topo.good']) await channel.deleteQueue(queueName(namespace, f));
      await channel.deleteExchange(exchangeName(namespace));
      await raw.close();
    }
  });
});
