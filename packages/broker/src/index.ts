/**
 * @drover/broker — the dispatcher adapters: RabbitMQ (durable queues, publisher confirms,
 * recovery after broker restarts) and in-memory (embedded mode, tests). Both pass one conformance
 * suite; messages carry a job id, never the job.
 *
 * @example
 * ```ts
 * import { createAmqpBroker } from '@drover/broker';
 *
 * const broker = await createAmqpBroker({ url: 'amqp://guest:guest@127.0.0.1:5672', namespace: 'drover' });
 * await broker.publish([{ funcname: 'email.send', jobId: '42', priority: 0 }]);
 * const sub = await broker.consume(['email.send'], 16, (d) => { handle(d.body); d.ack(); });
 * ```
 */
export { AmqpBroker, createAmqpBroker, type AmqpBrokerOptions } from './amqp-broker.js';
export { deleteBrokerNamespace } from './delete-namespace.js';
export { QueueConflictError } from './errors.js';
export { MemoryBroker } from './memory-broker.js';
export { BROKER_PRIORITY_LEVELS, brokerPriority, exchangeName, queueName } from './topology.js';
