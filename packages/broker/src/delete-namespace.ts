/**
 * Removes a namespace's topology from RabbitMQ: its functions' queues (with the messages they
 * hold) and its exchange. For tearing down a namespace whose database schema is gone (tests, the
 * benchmark's reset); messages carry only job ids, so nothing but wake-ups is lost.
 */
import amqp from 'amqplib';
import { exchangeName, queueName } from './topology.js';

/** Deletes the queues of `funcnames` and the exchange of `namespace`; a queue that does not exist is no error. */
export async function deleteBrokerNamespace(options: { url: string; namespace: string; funcnames: Iterable<string> }): Promise<void> {
  const connection = await amqp.connect(options.url);
  // A failure below closes the connection with an error event; the rejection carries it.
  connection.on('error', () => undefined);
  try {
    const channel = await connection.createChannel();
    for (const funcname of options.funcnames) await channel.deleteQueue(queueName(options.namespace, funcname));
    await channel.deleteExchange(exchangeName(options.namespace));
  } finally {
    await connection.close().catch(() => undefined);
  }
}
