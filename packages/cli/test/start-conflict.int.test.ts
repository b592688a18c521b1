/**
 * A queue that exists on RabbitMQ with other arguments is configuration, not an outage: a
 * start-up that meets it fails at once with the broker's QueueConflictError naming the queue,
 * rather than logging "RabbitMQ is not available" and trying again for ever.
 */
import amqp from 'amqplib';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createAmqpBroker, deleteBrokerNamespace, QueueConflictError, queueName } from '@drover/broker';
import { testNamespaceName } from '@drover/testing';
import { needs, startWithRetry } from '../src/start-retry.js';

const namespace = testNamespaceName();
const url = (): string => inject('droverServices').amqpUrl;
const FUNC = 'conflict.start';

afterAll(async () => {
  await deleteBrokerNamespace({ url: url(), namespace: namespace, funcnames: [FUNC] });
});

describe('starting against a queue with other arguments', () => {
  it('fails at once with a QueueConflictError instead of retrying as if RabbitMQ were down', async () => {
    const raw = await amqp.connect(url());
    try {
      // Declared without priorities, as another deployment might have.
      await (await raw.createChannel()).assertQueue(queueName(namespace, FUNC), { durable: true, arguments: { 'x-queue-type': 'classic' } });
    } finally {
      await raw.close();
    }
    const retries: string[] = [];
    const stop = new AbortController();
    // A retry is the failure this test is about: it is recorded and ends the wait at once.
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      error: () => undefined,
      warn: (_: Record<string, unknown>, message = '') => {
        retries.push(message);
        stop.abort();
      },
      child() {
        return logger;
      },
    };
    const starting = startWithRetry(
      'worker',
      async (onClose) => {
        const broker = await createAmqpBroker({ url: url(), namespace });
        onClose(() => broker.close());
        return needs('RabbitMQ', () => broker.consume([FUNC], 1, () => undefined));
      },
      { logger, signal: stop.signal },
    );
    await expect(starting).rejects.toBeInstanceOf(QueueConflictError);
    await expect(starting).rejects.toThrow(queueName(namespace, FUNC));
    expect(retries).toEqual([]);
  });
});
