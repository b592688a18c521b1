/**
 * Publishing: one confirm channel per connection, and a publish() that always settles. It
 * resolves once the broker confirmed every message, and rejects (the relay keeps the jobs ready in
 * PostgreSQL and tries again) when the connection is blocked by a resource alarm, when it becomes
 * blocked meanwhile, when it dies, or when confirms do not arrive within confirmTimeoutMs. A
 * channel left with unconfirmed messages is abandoned, so the next publish starts clean.
 */
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { InfrastructureError, encodeJobId, validateFuncname, type Dispatch, type Logger } from '@drover/core';
import { brokerPriority, exchangeName } from '../topology.js';
import type { BrokerConnection } from './connection.js';
import { dropChannel, withDeadline } from './deadline.js';
import type { QueueDeclarer } from './declare.js';

export interface PublisherOptions {
  namespace: string;
  queueType: 'classic' | 'quorum';
  persistentMessages: boolean;
  /** How long a publish waits for the socket to drain and the broker to confirm. */
  confirmTimeoutMs: number;
  logger: Logger;
}

/** Publishes dispatches on a connection of its own. */
export class Publisher {
  readonly #connection: BrokerConnection;
  readonly #declarer: QueueDeclarer;
  readonly #options: PublisherOptions;
  #channel: { model: ChannelModel; channel: ConfirmChannel } | null = null;

  constructor(connection: BrokerConnection, declarer: QueueDeclarer, options: PublisherOptions) {
    this.#connection = connection;
    this.#declarer = declarer;
    this.#options = options;
  }

  /** Opens the confirm channel on a fresh connection (the connection's setup hook). */
  async open(model: ChannelModel): Promise<void> {
    this.#channel = null;
    this.#channel = { model, channel: await this.#openChannel(model) };
  }

  /**
   * The publish channel: a confirm channel with the exchange declared. One the broker closes while
   * the connection lives (an error it reports) is dropped, and the next publish opens another.
   */
  async #openChannel(model: ChannelModel): Promise<ConfirmChannel> {
    const { confirmTimeoutMs } = this.#options;
    // Each wait bounded: on a half-open or blocked connection neither is ever answered, and the
    // relay's step would hang until the heartbeat noticed (minutes). A late channel is dropped.
    const channel = await withDeadline(model.createConfirmChannel(), confirmTimeoutMs, 'opening the publish channel', dropChannel);
    channel.on('error', (err: Error) => this.#options.logger.error({ err: err.message }, 'publish channel error'));
    channel.on('close', () => {
      if (this.#channel?.channel === channel) this.#channel = null;
    });
    try {
      await withDeadline(channel.assertExchange(exchangeName(this.#options.namespace), 'direct', { durable: true }), confirmTimeoutMs, 'declaring the exchange');
    } catch (err) {
      dropChannel(channel);
      throw err;
    }
    return channel;
  }

  /** The current connection's confirm channel, opened if the last one was dropped. */
  async #ready(): Promise<{ model: ChannelModel; channel: ConfirmChannel }> {
    for (;;) {
      const model = await this.#connection.connected();
      if (this.#channel?.model === model) return this.#channel;
      try {
        this.#channel = { model, channel: await this.#openChannel(model) };
        return this.#channel;
      } catch (err) {
        // The connection is going too: connected() waits for the next one.
        if (!this.#connection.hasClosed(model)) throw err;
      }
    }
  }

  /** Drops a channel that may hold unconfirmed messages; its late confirms no longer matter. */
  #abandon(channel: ConfirmChannel): void {
    if (this.#channel?.channel !== channel) return;
    this.#channel = null;
    dropChannel(channel);
  }

  async publish(dispatches: readonly Dispatch[]): Promise<void> {
    if (dispatches.length === 0) return;
    const bodies = dispatches.map((d, i) => {
      validateFuncname(d.funcname, `dispatches[${i}].funcname`);
      return Buffer.from(encodeJobId(d.jobId), 'utf8');
    });
    const refusal = this.#refusal();
    if (refusal) throw refusal;
    const { model, channel } = await this.#ready();
    let stopWaiting = (): void => undefined;
    // Settles (rejects) when the connection is blocked meanwhile or the deadline passes.
    const interrupted = new Promise<never>((_, reject) => {
      const timer = setTimeout(() => reject(new Error(`no confirm within ${this.#options.confirmTimeoutMs} ms`)), this.#options.confirmTimeoutMs);
      const unsubscribe = this.#connection.onBlocked((blocked) => {
        if (blocked) reject(this.#refusal() ?? new Error('the broker blocked the connection'));
      });
      stopWaiting = () => {
        clearTimeout(timer);
        unsubscribe();
      };
    });
    const work = this.#send(model, channel, dispatches, bodies);
    work.catch(() => undefined);
    try {
      await Promise.race([work, interrupted]);
    } catch (err) {
      this.#abandon(channel);
      throw new InfrastructureError(`amqp broker: publish of ${dispatches.length} message(s) not confirmed: ${(err as Error).message}`, { cause: err });
    } finally {
      stopWaiting();
    }
  }

  /** Why publishing is refused right now, or null. */
  #refusal(): Error | null {
    const reason = this.#connection.blockedReason;
    return reason === null ? null : new InfrastructureError(`amqp broker: publishing refused: the broker blocked the connection (${reason}); it resumes when the alarm clears`);
  }

  async #send(model: ChannelModel, channel: ConfirmChannel, dispatches: readonly Dispatch[], bodies: Buffer[]): Promise<void> {
    // Declaring before publishing means a message can never arrive at an exchange with no queue bound.
    for (const funcname of new Set(dispatches.map((d) => d.funcname))) {
      if (!this.#declarer.isDeclared(model, funcname)) await this.#declarer.declare(model, funcname);
    }
    const exchange = exchangeName(this.#options.namespace);
    for (let i = 0; i < dispatches.length; i++) {
      const d = dispatches[i]!;
      const ok = channel.publish(exchange, d.funcname, bodies[i]!, {
        persistent: this.#options.persistentMessages,
        contentType: 'text/plain',
        ...(this.#options.queueType === 'classic' ? { priority: brokerPriority(d.priority) } : {}),
      });
      // The socket buffer is full: wait for it to drain rather than buffering without bound, but
      // not past the channel's end (nor the deadline, see publish()).
      if (!ok) {
        await new Promise<void>((resolve, reject) => {
          const onClose = (): void => reject(new Error('channel closed while waiting for it to drain'));
          channel.once('close', onClose);
          channel.once('drain', () => {
            channel.off('close', onClose);
            resolve();
          });
        });
      }
    }
    await channel.waitForConfirms();
  }
}
