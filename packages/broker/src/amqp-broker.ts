/**
 * The RabbitMQ adapter. Topology is declared by code: a durable direct exchange per namespace and
 * a durable queue per function, bound by funcname. Messages carry only the job id, are transient
 * unless `persistentMessages` is set (PostgreSQL is the truth; the relay publishes again what a
 * broker restart lost), and are published on a confirm channel: publish() resolves once the
 * broker has them.
 *
 * Reconnection is amqplib's own recovery (backoff with jitter); after each connection the `setup`
 * hook re-creates the publishing channel and every live subscription, so consumers come back by
 * themselves after a broker restart. While disconnected, publish() waits a bounded time and then
 * fails: the relay keeps the jobs ready in PostgreSQL and tries again.
 */
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type RecoveringChannelModel } from 'amqplib';
import { InfrastructureError, silentLogger, validateFuncname, type Broker, type Delivery, type Dispatch, type Logger, type Subscription } from '@drover/core';
import { Acker } from './internal/acker.js';
import { BROKER_PRIORITY_LEVELS, brokerPriority, checkPrefetch, encodeJobId, exchangeName, queueName } from './topology.js';

export interface AmqpBrokerOptions {
  /** An `amqp://` URL. */
  url: string;
  /** Prefixes the exchange and queues. */
  namespace: string;
  /**
   * `classic` (default) supports priorities; `quorum` replicates the queue across a cluster but has
   * no priorities on RabbitMQ before 4.0 and no shared (global) prefetch for slot groups.
   */
  queueType?: 'classic' | 'quorum';
  logger?: Logger;
  /** How long publish() and consume() wait for a connection before failing. */
  connectWaitMs?: number;
  /** Shown in the management UI and `rabbitmqctl list_connections`. */
  connectionName?: string;
  /**
   * Whether messages survive a broker restart (written to disk before the broker confirms them).
   * Off by default: PostgreSQL holds every job, so after a restart the relay publishes the lost
   * messages again (see Broker.onMessagesLost), while a transient message is confirmed about five
   * times sooner here (0.14 ms against 0.7 ms) and costs the broker half the CPU.
   */
  persistentMessages?: boolean;
}

/** Ten seconds rides out a broker restart on this hardware (5–8 s) without stalling a caller forever. */
const DEFAULT_CONNECT_WAIT_MS = 10_000;
/** Reconnect backoff: fast first retries for a blip, capped at 5 s so a restarted broker is found quickly. */
const RECOVERY = { initialDelay: 100, maxDelay: 5_000, factor: 2, jitter: 0.2 } as const;

interface SubscriptionState {
  funcnames: readonly string[];
  prefetch: number;
  onDelivery: (delivery: Delivery) => void;
  channel: Channel | null;
  /** Settles the channel's deliveries; one per channel, since delivery tags are per channel. */
  acker: Acker | null;
  consumerTags: string[];
  cancelled: boolean;
}

/** A broker on RabbitMQ. Create with {@link createAmqpBroker}. */
export class AmqpBroker implements Broker {
  readonly #options: Required<Omit<AmqpBrokerOptions, 'logger' | 'connectionName'>>;
  readonly #lostListeners: (() => void)[] = [];
  /** Connections that have closed: an operation failing on one of them failed for that reason. */
  readonly #closedConnections = new WeakSet<ChannelModel>();
  /** Set after the first connection: every later one is a reconnection. */
  #connectedBefore = false;
  readonly #logger: Logger;
  readonly #subscriptions = new Set<SubscriptionState>();
  #model: RecoveringChannelModel | null = null;
  #connection: ChannelModel | null = null;
  #publisher: ConfirmChannel | null = null;
  /** Queues declared on the current connection; declaring is idempotent but costs a round trip. */
  #declared = new Set<string>();
  #waiters: (() => void)[] = [];
  #closed = false;

  constructor(options: AmqpBrokerOptions) {
    this.#options = { queueType: 'classic', connectWaitMs: DEFAULT_CONNECT_WAIT_MS, persistentMessages: false, ...options };
    this.#logger = (options.logger ?? silentLogger).child({ component: 'amqp-broker' });
  }

  /** Starts connecting; resolves at once, before the broker answers (see the module comment). */
  async start(connectionName = 'drover'): Promise<this> {
    this.#model = await amqp.connect(this.#options.url, {
      clientProperties: { connection_name: connectionName },
      recovery: { ...RECOVERY, waitForConnect: false, setup: (model: ChannelModel) => this.#setup(model) },
    });
    this.#model.on('disconnect', (err: Error) => {
      this.#forgetConnection();
      if (!this.#closed) this.#logger.warn({ err: err?.message }, 'broker connection lost; reconnecting');
    });
    this.#model.on('reconnect-scheduled', (info: { attempt: number; delay: number; error: Error }) => {
      this.#logger.warn({ attempt: info.attempt, delayMs: info.delay, err: info.error?.message }, 'broker reconnect scheduled');
    });
    this.#model.on('error', (err: Error) => this.#logger.error({ err: err.message }, 'broker connection error'));
    return this;
  }

  /**
   * The publish channel: a confirm channel with the exchange declared. One the broker closes while
   * the connection lives (an error it reports) is dropped, and the next publish opens another.
   */
  async #openPublisher(model: ChannelModel): Promise<ConfirmChannel> {
    const publisher = await model.createConfirmChannel();
    publisher.on('error', (err: Error) => this.#logger.error({ err: err.message }, 'publish channel error'));
    publisher.on('close', () => {
      if (this.#publisher === publisher) this.#publisher = null;
    });
    await publisher.assertExchange(exchangeName(this.#options.namespace), 'direct', { durable: true });
    return publisher;
  }

  /** Forgets everything that belonged to a connection: its channels die with it. */
  #forgetConnection(): void {
    this.#connection = null;
    this.#publisher = null;
    for (const s of this.#subscriptions) s.channel = null;
  }

  /**
   * Runs after every successful connection: channels and subscriptions are per connection. amqplib
   * attaches its own close handling only after this returns, so a connection that dies part-way
   * through must be handled here: an 'error' listener first (an unhandled one would end the
   * process), and every channel of an earlier attempt forgotten, so that the next attempt opens
   * all of them again.
   */
  async #setup(model: ChannelModel): Promise<void> {
    model.on('error', (err: Error) => this.#logger.warn({ err: err.message }, 'broker connection error during setup'));
    model.once('close', () => this.#closedConnections.add(model));
    this.#forgetConnection();
    try {
      const publisher = await this.#openPublisher(model);
      this.#declared = new Set();
      this.#connection = model;
      this.#publisher = publisher;
      for (const s of this.#subscriptions) if (!s.cancelled) await this.#open(model, s);
    } catch (err) {
      this.#forgetConnection();
      throw err;
    }
    this.#logger.info({ subscriptions: this.#subscriptions.size }, 'broker connected');
    for (const wake of this.#waiters.splice(0)) wake();
    // We cannot tell a restart that dropped transient messages from a blip that kept them, so
    // every reconnection counts as a loss; persistent messages survive either.
    if (this.#connectedBefore && !this.#options.persistentMessages) for (const listener of this.#lostListeners) listener();
    this.#connectedBefore = true;
  }

  /** Waits for a connection, bounded by connectWaitMs. */
  async #connected(): Promise<{ model: ChannelModel; publisher: ConfirmChannel }> {
    if (this.#closed) throw new InfrastructureError('amqp broker: closed');
    if (this.#connection && this.#publisher) return { model: this.#connection, publisher: this.#publisher };
    if (this.#connection) {
      const model = this.#connection;
      try {
        this.#publisher = await this.#openPublisher(model);
        return { model, publisher: this.#publisher };
      } catch {
        // The connection is going too: wait for the next one below.
      }
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        reject(new InfrastructureError(`amqp broker: not connected after ${this.#options.connectWaitMs} ms`));
      }, this.#options.connectWaitMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(wake);
    });
    return this.#connected();
  }

  #queueArguments(): Record<string, unknown> {
    return this.#options.queueType === 'quorum'
      ? { 'x-queue-type': 'quorum' }
      : { 'x-queue-type': 'classic', 'x-max-priority': BROKER_PRIORITY_LEVELS - 1 };
  }

  /**
   * Declares a function's queue and binding, once per connection, on a channel of its own: a
   * declaration the broker refuses (a queue that exists with other arguments) closes the channel
   * it was made on, and that must not be the shared publish channel.
   */
  async #declare(model: ChannelModel, funcname: string): Promise<{ queue: string; messageCount: number }> {
    const queue = queueName(this.#options.namespace, funcname);
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    try {
      const { messageCount } = await channel.assertQueue(queue, { durable: true, arguments: this.#queueArguments() });
      if (!this.#declared.has(queue)) await channel.bindQueue(queue, exchangeName(this.#options.namespace), funcname);
      this.#declared.add(queue);
      return { queue, messageCount };
    } catch (err) {
      throw new InfrastructureError(
        `amqp broker: cannot declare queue ${queue} (${(err as Error).message}); if it exists with other arguments (queue type, priorities), delete it or use another namespace`,
        { cause: err },
      );
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async publish(dispatches: readonly Dispatch[]): Promise<void> {
    if (dispatches.length === 0) return;
    const bodies = dispatches.map((d, i) => {
      validateFuncname(d.funcname, `dispatches[${i}].funcname`);
      return encodeJobId(d.jobId);
    });
    const { model, publisher } = await this.#connected();
    try {
      // Declaring before publishing means a message can never arrive at an exchange with no queue bound.
      for (const funcname of new Set(dispatches.map((d) => d.funcname))) {
        if (!this.#declared.has(queueName(this.#options.namespace, funcname))) await this.#declare(model, funcname);
      }
      const exchange = exchangeName(this.#options.namespace);
      for (let i = 0; i < dispatches.length; i++) {
        const d = dispatches[i]!;
        const ok = publisher.publish(exchange, d.funcname, bodies[i]!, {
          persistent: this.#options.persistentMessages,
          contentType: 'text/plain',
          ...(this.#options.queueType === 'classic' ? { priority: brokerPriority(d.priority) } : {}),
        });
        // The socket buffer is full: wait for it to drain rather than buffering without bound, but
        // not past the channel's end, or a dropped connection would hang the relay's transaction.
        if (!ok) {
          await new Promise<void>((resolve, reject) => {
            const onClose = (): void => reject(new Error('channel closed while waiting for it to drain'));
            publisher.once('close', onClose);
            publisher.once('drain', () => {
              publisher.off('close', onClose);
              resolve();
            });
          });
        }
      }
      await publisher.waitForConfirms();
    } catch (err) {
      throw new InfrastructureError(`amqp broker: publish of ${dispatches.length} message(s) not confirmed: ${(err as Error).message}`, { cause: err });
    }
  }

  onMessagesLost(listener: () => void): void {
    this.#lostListeners.push(listener);
  }

  async queueDepth(funcname: string): Promise<number> {
    validateFuncname(funcname);
    const { model } = await this.#connected();
    // A passive check would close the channel if the queue did not exist; declaring is idempotent and reports the count too.
    return (await this.#declare(model, funcname)).messageCount;
  }

  async consume(funcnames: readonly string[], prefetch: number, onDelivery: (delivery: Delivery) => void): Promise<Subscription> {
    if (funcnames.length === 0) throw new InfrastructureError('amqp broker: consume needs at least one funcname');
    funcnames.forEach((f, i) => validateFuncname(f, `funcnames[${i}]`));
    const state: SubscriptionState = { funcnames, prefetch: checkPrefetch(prefetch), onDelivery, channel: null, acker: null, consumerTags: [], cancelled: false };
    const { model } = await this.#connected();
    this.#subscriptions.add(state);
    try {
      await this.#open(model, state);
    } catch (err) {
      // The connection died under us: the subscription is registered, and the next connection's
      // setup opens it. Any other failure (a queue the broker refuses to declare) is the caller's.
      if (!this.#closedConnections.has(model)) {
        this.#subscriptions.delete(state);
        throw err;
      }
      this.#logger.warn({ funcnames, err: (err as Error).message }, 'broker connection lost while subscribing; subscribing again on reconnect');
    }
    return {
      cancel: async () => {
        state.cancelled = true;
        const channel = state.channel;
        if (channel) for (const tag of state.consumerTags) await channel.cancel(tag).catch(() => undefined);
      },
      close: async () => {
        state.cancelled = true;
        this.#subscriptions.delete(state);
        // Acks of this turn go first; closing the channel returns every unacknowledged delivery to its queue.
        this.#flushAcks(state);
        await state.channel?.close().catch(() => undefined);
        state.channel = null;
      },
    };
  }

  /** Opens a subscription's channel and consumers on a connection. */
  async #open(model: ChannelModel, state: SubscriptionState): Promise<void> {
    // A subscription added while #setup was iterating could otherwise be opened twice.
    if (state.channel) return;
    const channel = await model.createChannel();
    channel.on('error', (err: Error) => this.#logger.error({ err: err.message, funcnames: state.funcnames }, 'consumer channel error'));
    // One function: a per-consumer prefetch. A slot group on classic queues: one prefetch shared by
    // every consumer on the channel (AMQP global QoS). Quorum queues refuse global QoS, so there each
    // consumer gets the whole budget and the worker's per-group semaphore keeps the group to it.
    const shared = state.funcnames.length > 1 && this.#options.queueType === 'classic';
    await channel.prefetch(state.prefetch, shared);
    state.channel = channel;
    state.acker = new Acker(channel, (err) => this.#logger.debug({ err: (err as Error).message }, 'acks not sent: the channel closed (the broker requeued those messages)'));
    state.consumerTags = [];
    for (const funcname of state.funcnames) {
      const { queue } = await this.#declare(model, funcname);
      const { consumerTag } = await channel.consume(queue, (message) => this.#deliver(state, channel, funcname, message), { noAck: false });
      state.consumerTags.push(consumerTag);
    }
  }

  #deliver(state: SubscriptionState, channel: Channel, funcname: string, message: ConsumeMessage | null): void {
    if (!message) {
      // The broker cancelled the consumer (its queue was deleted).
      this.#logger.warn({ funcname }, 'consumer cancelled by the broker');
      return;
    }
    // Settling on a channel that has closed throws; the broker has already requeued the message, so
    // there is nothing left to settle and the duplicate it causes is harmless.
    const acker = state.acker!;
    const tag = message.fields.deliveryTag;
    acker.delivered(tag);
    const settle = (fn: () => void): void => {
      try {
        if (state.channel === channel) fn();
      } catch {
        /* channel closed meanwhile: see above */
      }
    };
    state.onDelivery({
      funcname,
      body: message.content.toString('utf8'),
      redelivered: message.fields.redelivered,
      ack: () => settle(() => acker.ack(tag)),
      nack: (requeue) => settle(() => acker.nack(tag, requeue)),
    });
  }

  /** Sends a subscription's pending acks now (before its channel closes). */
  #flushAcks(state: SubscriptionState): void {
    try {
      state.acker?.flush();
    } catch {
      // The channel is already closed: the broker has requeued those deliveries.
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#subscriptions) {
      s.cancelled = true;
      this.#flushAcks(s);
    }
    this.#subscriptions.clear();
    await this.#model?.close().catch(() => undefined);
  }
}

/** Creates a RabbitMQ broker and starts connecting in the background. */
export async function createAmqpBroker(options: AmqpBrokerOptions): Promise<AmqpBroker> {
  return new AmqpBroker(options).start(options.connectionName);
}
