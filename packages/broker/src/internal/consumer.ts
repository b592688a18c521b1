/**
 * Consuming: one channel per subscription, and a subscription that comes back by itself. The
 * broker can end a consumer while its connection lives: it closes the channel (a delivery left
 * unacked past RabbitMQ's `consumer_timeout` closes it with PRECONDITION_FAILED) or cancels the
 * consumer (its queue was deleted). Either way, while the subscription is live, it declares its
 * queues again and consumes again, retrying with a bounded backoff, and says why in the log. A
 * dead connection is the connection's business: its next setup opens every live subscription.
 *
 * Deliveries of a dead channel were requeued by the broker; settling them is a no-op, and the
 * redelivered copy meets a claim that is refused (the job is running) and is dropped.
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Delivery, Logger } from '@drover/core';
import { Acker } from './acker.js';
import type { BrokerConnection } from './connection.js';
import { dropChannel, withDeadline } from './deadline.js';
import type { QueueDeclarer } from './declare.js';

/** First retry after a consumer ends: soon, since the usual cause (a deleted queue) is fixed by declaring again. */
const REOPEN_INITIAL_MS = 100;
/** Retries back off to this: a broker that keeps refusing is asked every 5 s, not hammered. */
const REOPEN_MAX_MS = 5_000;

export interface ConsumerOptions {
  funcnames: readonly string[];
  prefetch: number;
  /** One prefetch shared by every consumer on the channel (AMQP global QoS; classic queues only). */
  sharedPrefetch: boolean;
  onDelivery: (delivery: Delivery) => void;
  /** How long each channel-level round trip (open, prefetch, consume) may take before the channel is abandoned. */
  timeoutMs: number;
  logger: Logger;
}

/** One subscription: a channel with a consumer per function, kept alive while the subscription is. */
export class ConsumerSubscription {
  readonly #connection: BrokerConnection;
  readonly #declarer: QueueDeclarer;
  readonly #options: ConsumerOptions;
  readonly #logger: Logger;
  #channel: Channel | null = null;
  #model: ChannelModel | null = null;
  /** Settles the channel's deliveries; one per channel, since delivery tags are per channel. */
  #acker: Acker | null = null;
  /** Consumer tag per funcname on the current channel. */
  #tags = new Map<string, string>();
  /** The open in progress, so that a reconnection and a recovery never open two channels. */
  #opening: Promise<void> | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #attempt = 0;
  /** cancel(): no new deliveries, and no recovery either. */
  #stopped = false;

  constructor(connection: BrokerConnection, declarer: QueueDeclarer, options: ConsumerOptions) {
    this.#connection = connection;
    this.#declarer = declarer;
    this.#options = options;
    this.#logger = options.logger.child({ funcnames: options.funcnames });
  }

  /** The functions this subscription consumes. */
  get funcnames(): readonly string[] {
    return this.#options.funcnames;
  }

  /** Whether the subscription still wants deliveries. */
  get live(): boolean {
    return !this.#stopped;
  }

  /** Opens the channel and consumers on a connection, unless they are open on it already. */
  async open(model: ChannelModel): Promise<void> {
    while (this.#opening) await this.#opening.catch(() => undefined);
    if (this.#stopped || (this.#channel && this.#model === model)) return;
    this.#opening = this.#openOn(model);
    try {
      await this.#opening;
    } finally {
      this.#opening = null;
    }
  }

  async #openOn(model: ChannelModel): Promise<void> {
    const { timeoutMs } = this.#options;
    // Every wait bounded: a half-open or blocked connection answers nothing until the heartbeat
    // notices (minutes), and a reconnection's setup or a recovery must not hang with it.
    const channel = await withDeadline(model.createChannel(), timeoutMs, 'opening a consumer channel', dropChannel);
    channel.on('error', (err: Error) => this.#logger.warn({ err: err.message }, 'consumer channel closed by the broker'));
    channel.on('close', () => this.#channelClosed(channel));
    // Current from here on, so that its close (even one caused by a failure below) starts a recovery.
    this.#channel = channel;
    this.#model = model;
    this.#tags = new Map();
    this.#acker = new Acker(channel, (err) => this.#logger.debug({ err: (err as Error).message }, 'acks not sent: the channel closed (the broker requeued those messages)'));
    let refused: Error | null;
    try {
      await withDeadline(channel.prefetch(this.#options.prefetch, this.#options.sharedPrefetch), timeoutMs, 'setting the prefetch');
      refused = await this.#consumeMissing(channel);
    } catch (err) {
      // Half-open is no use: close it, and its close handler schedules the next try.
      dropChannel(channel);
      throw err;
    }
    // The channel stays: the group's other functions consume on it, and the retry the caller
    // arranges consumes only the refused ones.
    if (refused) throw refused;
    this.#attempt = 0;
  }

  /**
   * Consumes every function that has no consumer on the channel yet. A queue the broker refuses
   * to declare does not stop the others: its error is returned, after trying them all. A failure
   * of the channel itself is thrown.
   */
  async #consumeMissing(channel: Channel): Promise<Error | null> {
    let refused: Error | null = null;
    for (const funcname of this.#options.funcnames) {
      if (this.#tags.has(funcname)) continue;
      const err = await this.#consume(channel, funcname);
      refused ??= err;
    }
    return refused;
  }

  /**
   * Brings the subscription back on the live connection: a new channel if its channel closed, a
   * new consumer for each function without one (the broker cancelled it, or refused its queue).
   * Idempotent. Waits for a live connection at most connectWaitMs, then fails (and is retried).
   */
  async #recover(): Promise<void> {
    if (this.#stopped) return;
    // Waited for (bounded): a retry handed over by a connection's setup runs before that
    // connection is current, and must not be dropped for it.
    const model = this.#connection.current ?? (await this.#connection.connected());
    if (this.#stopped) return;
    const channel = this.#channel;
    if (!channel || this.#model !== model) return this.open(model);
    const refused = await this.#consumeMissing(channel);
    if (refused) throw refused;
  }

  /**
   * Declares a function's queue again (it may have been deleted) and consumes it on the channel.
   * Returns the declaration's error, which leaves the channel unharmed (it is made on a channel of
   * its own), or null; throws when consuming fails.
   */
  async #consume(channel: Channel, funcname: string): Promise<Error | null> {
    let queue: string;
    try {
      ({ queue } = await this.#declarer.declare(this.#model!, funcname));
    } catch (err) {
      return err as Error;
    }
    if (this.#stopped || this.#channel !== channel) return null;
    const { consumerTag } = await withDeadline(channel.consume(queue, (message) => this.#deliver(channel, funcname, message), { noAck: false }), this.#options.timeoutMs, `consuming queue ${queue}`);
    this.#tags.set(funcname, consumerTag);
    return null;
  }

  #deliver(channel: Channel, funcname: string, message: ConsumeMessage | null): void {
    if (!message) {
      // The broker cancelled this consumer: its queue was deleted. The channel and the other
      // functions' consumers on it live on; this one is declared and consumed again.
      this.#tags.delete(funcname);
      this.#declarer.forget(funcname);
      if (this.#stopped || this.#channel !== channel) return;
      this.#logger.warn({ funcname }, 'the broker cancelled the consumer (its queue was deleted); declaring it and consuming again');
      this.#schedule('consumer cancelled by the broker');
      return;
    }
    const acker = this.#acker!;
    const tag = message.fields.deliveryTag;
    acker.delivered(tag);
    // Settling on a channel that has closed is a no-op: the broker has already requeued the
    // message, and the duplicate it causes is harmless.
    const settle = (fn: () => void): void => {
      try {
        if (this.#channel === channel) fn();
      } catch {
        /* the channel closed meanwhile: see above */
      }
    };
    this.#options.onDelivery({
      funcname,
      body: message.content.toString('utf8'),
      redelivered: message.fields.redelivered,
      ack: () => settle(() => acker.ack(tag)),
      nack: (requeue) => settle(() => acker.nack(tag, requeue)),
    });
  }

  #channelClosed(channel: Channel): void {
    if (this.#channel !== channel) return;
    this.#channel = null;
    this.#acker = null;
    this.#tags = new Map();
    if (this.#stopped) return;
    // When the whole connection closed, recovery finds no live connection and leaves the
    // subscription to the next connection's setup; a channel that closed alone is reopened.
    this.#schedule('consumer channel closed by the broker');
  }

  /** Recovers after a backoff; on failure, tries again with a longer one. */
  #schedule(why: string): void {
    if (this.#stopped || this.#retryTimer) return;
    const delay = Math.min(REOPEN_MAX_MS, REOPEN_INITIAL_MS * 2 ** this.#attempt);
    this.#attempt++;
    this.#logger.warn({ why, delayMs: delay, attempt: this.#attempt }, 'consuming again after a backoff');
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#recover().then(
        () => {
          if (this.#channel && !this.#stopped) {
            this.#attempt = 0;
            this.#logger.info({ why }, 'consuming again');
          }
        },
        (err: unknown) => {
          this.#logger.warn({ why, err: (err as Error).message }, 'consuming again failed; retrying');
          this.#schedule(why);
        },
      );
    }, delay);
  }

  /** Sends pending acks now (before the channel closes). */
  #flushAcks(): void {
    try {
      this.#acker?.flush();
    } catch {
      // The channel is already closed: the broker has requeued those deliveries.
    }
  }

  /**
   * Opens the subscription again after a backoff: its open failed during a connection's setup
   * (a queue the broker refuses, a declaration that timed out), which must not fail the others.
   */
  retryLater(why: string): void {
    this.#schedule(why);
  }

  /**
   * Stops new deliveries; deliveries already handed out stay with the caller to settle. Waits for
   * the broker at most `timeoutMs`: on a half-open connection the cancel is never answered, and a
   * worker's stop must go on to its close (the deliveries go back when the connection dies).
   */
  async cancel(timeoutMs: number): Promise<void> {
    this.#stop();
    const channel = this.#channel;
    if (!channel) return;
    const cancels = [...this.#tags.values()].map((tag) =>
      channel.cancel(tag).then(
        () => undefined,
        // The channel closed meanwhile: nothing more comes from it.
        () => undefined,
      ),
    );
    await withDeadline(Promise.all(cancels), timeoutMs, 'cancelling the consumers').catch((err: unknown) => {
      this.#logger.warn({ err: (err as Error).message }, 'the broker did not answer the cancel; going on without it');
    });
  }

  /**
   * Stops deliveries and closes the channel, which returns every unsettled delivery to its queue.
   * Waits for the broker at most `timeoutMs` (a blocked connection never answers).
   */
  async close(timeoutMs: number): Promise<void> {
    this.#stop();
    // Acks of this turn go first.
    this.#flushAcks();
    const channel = this.#channel;
    this.#channel = null;
    if (!channel) return;
    await withDeadline(channel.close(), timeoutMs, 'closing the consumer channel').catch(() => undefined);
  }

  /** Stops for good; pending acks are flushed by close(). */
  #stop(): void {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  /** Flushes pending acks without closing (the whole connection is closing). */
  stopForClose(): void {
    this.#stop();
    this.#flushAcks();
  }
}
