/**
 * The RabbitMQ adapter. Topology is declared by code: a durable direct exchange per namespace and
 * a durable queue per function, bound by funcname. Messages carry only the job id, are transient
 * unless `persistentMessages` is set (PostgreSQL is the truth; the relay publishes again what a
 * broker restart lost), and are published on a confirm channel: publish() resolves once the
 * broker has them, and always settles (see internal/publisher.ts).
 *
 * Publishing and consuming use two connections, each opened on first use, as RabbitMQ advises: a
 * resource alarm blocks a connection that publishes, and the broker then reads nothing from it,
 * acks included; a consuming connection that never publishes keeps delivering and hearing acks,
 * so workers keep claiming what is already queued while the relay waits for the alarm to clear.
 * Each connection comes back by itself (internal/connection.ts), and every subscription comes
 * back by itself whenever the broker ends it (internal/consumer.ts).
 */
import type { ChannelModel } from 'amqplib';
import { InfrastructureError, silentLogger, validateFuncname, type Broker, type Delivery, type Dispatch, type Logger, type Subscription } from '@drover/core';
import { BrokerConnection } from './internal/connection.js';
import { ConsumerSubscription } from './internal/consumer.js';
import { QueueDeclarer } from './internal/declare.js';
import { Publisher } from './internal/publisher.js';
import { checkPrefetch } from './topology.js';

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
  /**
   * How long publish() waits for the broker's confirms (and queueDepth() for its answer) before
   * failing; the relay then tries again. Also bounds every channel-level round trip (opening a
   * channel, declaring, prefetch, consume). Default 10 s, see DEFAULT_CONFIRM_TIMEOUT_MS.
   */
  confirmTimeoutMs?: number;
  /** How long close() and a subscription's cancel() or close() wait for the broker to answer. */
  closeTimeoutMs?: number;
  /**
   * Shown in the management UI and `rabbitmqctl list_connections`: the consuming connection has
   * this name, the publishing one this name with `:publish` after it.
   */
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
/**
 * A confirm takes well under a millisecond here (a persistent one under load, tens of ms), so ten
 * seconds without one means the broker is stalled (blocked without telling us, overloaded, or the
 * connection is half-open), not slow; failing then lets the relay retry instead of hanging its
 * loop. Much shorter would fail healthy publishes during a broker's GC pause or disk hiccup, and
 * each failure republishes the batch (harmless, but wasted).
 */
const DEFAULT_CONFIRM_TIMEOUT_MS = 10_000;
/**
 * A healthy broker answers a close in milliseconds; three seconds bounds a shutdown on a blocked
 * or vanished broker while leaving a busy one time to requeue the consumer's deliveries cleanly
 * (dropping the socket requeues them too, only later on the broker's side).
 */
const DEFAULT_CLOSE_TIMEOUT_MS = 3_000;

/** A broker on RabbitMQ. Create with {@link createAmqpBroker}. */
export class AmqpBroker implements Broker {
  readonly #options: Required<Omit<AmqpBrokerOptions, 'logger' | 'connectionName'>>;
  readonly #logger: Logger;
  readonly #lostListeners = new Set<() => void>();
  readonly #subscriptions = new Set<ConsumerSubscription>();
  readonly #declarer: QueueDeclarer;
  readonly #publishing: BrokerConnection;
  readonly #consuming: BrokerConnection;
  readonly #publisher: Publisher;
  #closed = false;

  constructor(options: AmqpBrokerOptions) {
    this.#options = {
      queueType: 'classic',
      connectWaitMs: DEFAULT_CONNECT_WAIT_MS,
      confirmTimeoutMs: DEFAULT_CONFIRM_TIMEOUT_MS,
      closeTimeoutMs: DEFAULT_CLOSE_TIMEOUT_MS,
      persistentMessages: false,
      ...options,
    };
    for (const key of ['connectWaitMs', 'confirmTimeoutMs', 'closeTimeoutMs'] as const) {
      const value = this.#options[key];
      if (!Number.isInteger(value) || value < 1) throw new InfrastructureError(`amqp broker: ${key} must be a positive integer of milliseconds`);
    }
    this.#logger = (options.logger ?? silentLogger).child({ component: 'amqp-broker' });
    const name = options.connectionName ?? 'drover';
    const { url, namespace, queueType, connectWaitMs, closeTimeoutMs, confirmTimeoutMs } = this.#options;
    this.#declarer = new QueueDeclarer({ namespace, queueType, timeoutMs: confirmTimeoutMs });
    this.#publishing = new BrokerConnection({
      url,
      name: `${name}:publish`,
      logger: this.#logger,
      connectWaitMs,
      closeTimeoutMs,
      setup: (model, reconnection) => this.#setupPublishing(model, reconnection),
    });
    this.#consuming = new BrokerConnection({ url, name, logger: this.#logger, connectWaitMs, closeTimeoutMs, setup: (model) => this.#setupConsuming(model) });
    this.#publisher = new Publisher(this.#publishing, this.#declarer, { ...this.#options, logger: this.#logger });
  }

  async #setupPublishing(model: ChannelModel, reconnection: boolean): Promise<void> {
    await this.#publisher.open(model);
    // We cannot tell a restart that dropped transient messages from a blip that kept them, so
    // every reconnection counts as a loss; persistent messages survive either. Only the publishing
    // connection says so: the relay, which listens, publishes; a worker has nothing to republish.
    if (reconnection && !this.#options.persistentMessages) for (const listener of [...this.#lostListeners]) listener();
  }

  async #setupConsuming(model: ChannelModel): Promise<void> {
    for (const s of this.#subscriptions) {
      if (!s.live) continue;
      try {
        await s.open(model);
      } catch (err) {
        // The connection died: amqplib reconnects, and the next setup opens every subscription.
        if (this.#consuming.hasClosed(model)) throw err;
        // One refused queue (other arguments, a declaration timed out) must not fail the setup:
        // amqplib would drop the connection and every other subscription with it, in a loop.
        this.#logger.warn({ funcnames: s.funcnames, err: (err as Error).message }, 'cannot consume on this connection yet; retrying this subscription alone');
        s.retryLater((err as Error).message);
      }
    }
    this.#logger.info({ subscriptions: this.#subscriptions.size }, 'consuming connection ready');
  }

  async publish(dispatches: readonly Dispatch[]): Promise<void> {
    if (this.#closed) throw new InfrastructureError('amqp broker: closed');
    return this.#publisher.publish(dispatches);
  }

  onMessagesLost(listener: () => void): () => void {
    this.#lostListeners.add(listener);
    return () => {
      this.#lostListeners.delete(listener);
    };
  }

  onBlocked(listener: (blocked: boolean, reason: string | null) => void): () => void {
    return this.#publishing.onBlocked(listener);
  }

  async queueDepth(funcname: string): Promise<number> {
    validateFuncname(funcname);
    const model = await this.#publishing.connected();
    if (this.#publishing.blockedReason !== null) throw new InfrastructureError(`amqp broker: queue depth unavailable: the broker blocked the connection (${this.#publishing.blockedReason})`);
    // A passive check would close the channel if the queue did not exist; declaring is idempotent and reports the count too.
    return (await this.#declarer.declare(model, funcname)).messageCount;
  }

  async consume(funcnames: readonly string[], prefetch: number, onDelivery: (delivery: Delivery) => void): Promise<Subscription> {
    if (this.#closed) throw new InfrastructureError('amqp broker: closed');
    if (funcnames.length === 0) throw new InfrastructureError('amqp broker: consume needs at least one funcname');
    funcnames.forEach((f, i) => validateFuncname(f, `funcnames[${i}]`));
    // One function: a per-consumer prefetch. A slot group on classic queues: one prefetch shared by
    // every consumer on the channel (AMQP global QoS). Quorum queues refuse global QoS, so there each
    // consumer gets the whole budget and the worker's per-group semaphore keeps the group to it.
    const sharedPrefetch = funcnames.length > 1 && this.#options.queueType === 'classic';
    const subscription = new ConsumerSubscription(this.#consuming, this.#declarer, {
      funcnames,
      prefetch: checkPrefetch(prefetch),
      sharedPrefetch,
      onDelivery,
      timeoutMs: this.#options.confirmTimeoutMs,
      logger: this.#logger,
    });
    const model = await this.#consuming.connected();
    this.#subscriptions.add(subscription);
    try {
      await subscription.open(model);
    } catch (err) {
      // The connection died under us: the subscription is registered, and the next connection's
      // setup opens it. Any other failure (a queue the broker refuses to declare) is the caller's.
      if (!this.#consuming.hasClosed(model)) {
        this.#subscriptions.delete(subscription);
        await subscription.close(this.#options.closeTimeoutMs);
        throw err;
      }
      this.#logger.warn({ funcnames, err: (err as Error).message }, 'broker connection lost while subscribing; subscribing again on reconnect');
    }
    return {
      cancel: () => subscription.cancel(this.#options.closeTimeoutMs),
      close: async () => {
        this.#subscriptions.delete(subscription);
        await subscription.close(this.#options.closeTimeoutMs);
      },
    };
  }

  /** Closes both connections, each within closeTimeoutMs; nothing of the broker keeps the process alive after. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#subscriptions) s.stopForClose();
    this.#subscriptions.clear();
    await Promise.all([this.#consuming.close(), this.#publishing.close()]);
  }
}

/** Creates a RabbitMQ broker; its connections open on first use. */
export async function createAmqpBroker(options: AmqpBrokerOptions): Promise<AmqpBroker> {
  return new AmqpBroker(options);
}
