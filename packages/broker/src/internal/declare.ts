/**
 * Declares a function's queue and binds it to the namespace's exchange: idempotent, so it is safe
 * from any process at any time, but a round trip, so remembered per connection. A queue deleted
 * under us is forgotten (forget()) and declared again by whoever next needs it.
 */
import type { Channel, ChannelModel } from 'amqplib';
import { InfrastructureError } from '@drover/core';
import { QueueConflictError, isPreconditionFailed } from '../errors.js';
import { BROKER_PRIORITY_LEVELS, exchangeName, queueName } from '../topology.js';
import { dropChannel, withDeadline } from './deadline.js';

export interface DeclarerOptions {
  namespace: string;
  queueType: 'classic' | 'quorum';
  /** A declaration is a round trip; one that takes longer than this is abandoned (a blocked connection). */
  timeoutMs: number;
}

/** Marks the namespace's exchange as declared on a connection (no queue name contains a space). */
const EXCHANGE = 'exchange ';

/** Declares queues, once per connection unless forgotten. */
export class QueueDeclarer {
  readonly #options: DeclarerOptions;
  /** Queues declared and bound on each live connection. */
  readonly #declared = new Map<ChannelModel, Set<string>>();

  constructor(options: DeclarerOptions) {
    this.#options = options;
  }

  /** The arguments every queue of this broker is declared with. */
  queueArguments(): Record<string, unknown> {
    return this.#options.queueType === 'quorum'
      ? { 'x-queue-type': 'quorum' }
      : { 'x-queue-type': 'classic', 'x-max-priority': BROKER_PRIORITY_LEVELS - 1 };
  }

  /** Whether the function's queue was declared on this connection (and not forgotten since). */
  isDeclared(model: ChannelModel, funcname: string): boolean {
    return this.#declared.get(model)?.has(queueName(this.#options.namespace, funcname)) ?? false;
  }

  /** Forgets a queue on every connection: the broker deleted it. */
  forget(funcname: string): void {
    const queue = queueName(this.#options.namespace, funcname);
    for (const declared of this.#declared.values()) declared.delete(queue);
  }

  /**
   * Declares a function's queue and binding on a channel of its own: a declaration the broker
   * refuses (a queue that exists with other arguments) closes the channel it was made on, and that
   * must not be a publishing or consuming channel. Returns the queue's name and waiting messages.
   */
  async declare(model: ChannelModel, funcname: string): Promise<{ queue: string; messageCount: number }> {
    const queue = queueName(this.#options.namespace, funcname);
    let declared = this.#declared.get(model);
    if (!declared) {
      this.#declared.set(model, (declared = new Set()));
      model.once('close', () => this.#declared.delete(model));
    }
    let channel: Channel;
    try {
      // Bounded too: on a half-open or blocked connection even opening a channel is never answered.
      channel = await withDeadline(model.createChannel(), this.#options.timeoutMs, `opening a channel to declare queue ${queue}`, dropChannel);
    } catch (err) {
      throw new InfrastructureError(`amqp broker: cannot declare queue ${queue} (${(err as Error).message})`, { cause: err });
    }
    channel.on('error', () => undefined);
    try {
      return await withDeadline(
        (async () => {
          const exchange = exchangeName(this.#options.namespace);
          // A consuming connection may be the first to touch the namespace: the binding needs the exchange.
          if (!declared.has(EXCHANGE)) await channel.assertExchange(exchange, 'direct', { durable: true });
          declared.add(EXCHANGE);
          const { messageCount } = await channel.assertQueue(queue, { durable: true, arguments: this.queueArguments() });
          if (!declared.has(queue)) await channel.bindQueue(queue, exchange, funcname);
          declared.add(queue);
          return { queue, messageCount };
        })(),
        this.#options.timeoutMs,
        `declaring queue ${queue}`,
      );
    } catch (err) {
      if (isPreconditionFailed(err)) throw new QueueConflictError(queue, { cause: err });
      throw new InfrastructureError(`amqp broker: cannot declare queue ${queue} (${(err as Error).message})`, { cause: err });
    } finally {
      // Not awaited past the deadline: on a blocked connection the close is never answered.
      void withDeadline(channel.close(), this.#options.timeoutMs, 'closing a declaring channel').catch(() => undefined);
    }
  }
}
