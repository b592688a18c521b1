/**
 * One recovering AMQP connection: amqplib's own reconnection (backoff with jitter), a bounded wait
 * for a connection, the broker's flow control (`connection.blocked` / `unblocked`, sent while a
 * memory or disk alarm is in effect) and a close that always ends, even while blocked.
 *
 * A blocked connection is one RabbitMQ has stopped reading from: nothing we send (publishes,
 * acks, even `connection.close`) is seen until the alarm clears. So a close waits for the broker's
 * answer only a bounded time, then destroys the socket; and every timer this owns is cleared by
 * close(), so a closed broker never keeps its process alive.
 */
import type { Socket } from 'node:net';
import amqp, { type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import { InfrastructureError, type Logger } from '@drover/core';

/** Reconnect backoff: fast first retries for a blip, capped at 5 s so a restarted broker is found quickly. */
const RECOVERY = { initialDelay: 100, maxDelay: 5_000, factor: 2, jitter: 0.2 } as const;

/** Called after every successful connection, before anyone may use it; `reconnection` is false the first time. */
export type SetupHook = (model: ChannelModel, reconnection: boolean) => Promise<void>;

/** Hears the broker block (true, with its reason) and unblock (false) the connection. */
export type BlockedListener = (blocked: boolean, reason: string | null) => void;

export interface BrokerConnectionOptions {
  url: string;
  /** Shown in the management UI and `rabbitmqctl list_connections`. */
  name: string;
  logger: Logger;
  /** How long connected() waits for a connection before failing. */
  connectWaitMs: number;
  /** How long close() waits for the broker to answer before destroying the socket. */
  closeTimeoutMs: number;
  setup: SetupHook;
}

/** A connection that comes back by itself. Started on first use. */
export class BrokerConnection {
  readonly #options: BrokerConnectionOptions;
  readonly #logger: Logger;
  #model: RecoveringChannelModel | null = null;
  #starting: Promise<void> | null = null;
  /** The live connection, once its setup hook has run; null while (re)connecting. */
  #current: ChannelModel | null = null;
  /** Connections that have closed: an operation failing on one of them failed for that reason. */
  readonly #closedModels = new WeakSet<ChannelModel>();
  #connectedBefore = false;
  #blockedReason: string | null = null;
  readonly #blockedListeners = new Set<BlockedListener>();
  /** Callers of connected() waiting for a connection: woken by a connection, failed by close(). */
  readonly #waiters = new Set<{ wake: () => void; fail: (err: Error) => void }>();
  #closed = false;

  constructor(options: BrokerConnectionOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ connection: options.name });
  }

  /** The live connection, or null while (re)connecting. */
  get current(): ChannelModel | null {
    return this.#current;
  }

  /** The reason the broker gave for blocking this connection, or null when it is not blocked. */
  get blockedReason(): string | null {
    return this.#blockedReason;
  }

  /** Whether this connection has closed (so a failure of an operation on it was the connection's). */
  hasClosed(model: ChannelModel): boolean {
    return this.#closedModels.has(model);
  }

  /** Listens for blocked / unblocked; returns a function that stops listening. */
  onBlocked(listener: BlockedListener): () => void {
    this.#blockedListeners.add(listener);
    return () => {
      this.#blockedListeners.delete(listener);
    };
  }

  /** Waits for a live connection, bounded by connectWaitMs; connects on first use. */
  async connected(): Promise<ChannelModel> {
    for (;;) {
      if (this.#closed) throw new InfrastructureError('amqp broker: closed');
      if (this.#current) return this.#current;
      await (this.#starting ??= this.#start());
      if (this.#current) return this.#current;
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          wake: () => {
            clearTimeout(timer);
            this.#waiters.delete(waiter);
            resolve();
          },
          fail: (err: Error) => {
            clearTimeout(timer);
            this.#waiters.delete(waiter);
            reject(err);
          },
        };
        const timer = setTimeout(() => waiter.fail(new InfrastructureError(`amqp broker: not connected after ${this.#options.connectWaitMs} ms`)), this.#options.connectWaitMs);
        this.#waiters.add(waiter);
      });
    }
  }

  async #start(): Promise<void> {
    const model = await amqp.connect(this.#options.url, {
      clientProperties: { connection_name: this.#options.name },
      recovery: { ...RECOVERY, waitForConnect: false, setup: (m: ChannelModel) => this.#setup(m) },
    });
    this.#model = model;
    model.on('disconnect', (err: Error) => {
      this.#current = null;
      if (!this.#closed) this.#logger.warn({ err: err?.message }, 'broker connection lost; reconnecting');
    });
    model.on('reconnect-scheduled', (info: { attempt: number; delay: number; error: Error }) => {
      this.#logger.warn({ attempt: info.attempt, delayMs: info.delay, err: info.error?.message }, 'broker reconnect scheduled');
    });
    model.on('error', (err: Error) => this.#logger.error({ err: err.message }, 'broker connection error'));
    // close() may have run while amqp.connect was resolving.
    if (this.#closed) await model.close().catch(() => undefined);
  }

  /**
   * Runs after every successful connection. amqplib attaches its own close handling only after
   * this returns, so a connection that dies part-way through must be handled here: an 'error'
   * listener first (an unhandled one would end the process). Blocked / unblocked are watched on
   * the raw connection, because the broker may block it before amqplib starts forwarding them.
   */
  async #setup(model: ChannelModel): Promise<void> {
    model.on('error', (err: Error) => this.#logger.warn({ err: err.message }, 'broker connection error during setup'));
    model.on('blocked', (reason: string) => this.#setBlocked(model, reason));
    model.on('unblocked', () => this.#setBlocked(model, null));
    model.once('close', () => {
      this.#closedModels.add(model);
      if (this.#current === model) this.#current = null;
      // A new connection starts unblocked; the broker says so again if its alarm still holds.
      this.#setBlocked(model, null);
    });
    await this.#options.setup(model, this.#connectedBefore);
    if (this.#closed || this.#closedModels.has(model)) return;
    this.#current = model;
    this.#connectedBefore = true;
    this.#logger.info({}, 'broker connected');
    for (const waiter of [...this.#waiters]) waiter.wake();
  }

  #setBlocked(model: ChannelModel, reason: string | null): void {
    if (this.#closedModels.has(model) && reason !== null) return;
    const was = this.#blockedReason;
    this.#blockedReason = reason;
    if ((was === null) === (reason === null)) return;
    if (reason !== null) this.#logger.warn({ reason }, 'the broker blocked this connection (resource alarm): publishing is refused until it unblocks');
    else this.#logger.info({}, 'the broker unblocked this connection');
    for (const listener of [...this.#blockedListeners]) {
      try {
        listener(reason !== null, reason);
      } catch (err) {
        this.#logger.error({ err: (err as Error).message }, 'a blocked listener threw');
      }
    }
  }

  /**
   * Closes the connection and stops reconnecting. Waits for the broker's answer at most
   * closeTimeoutMs, then destroys the socket: a blocked connection is not read by the broker, and
   * a half-closed socket would keep the process alive until the alarm cleared.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.fail(new InfrastructureError('amqp broker: closed'));
    await this.#starting?.catch(() => undefined);
    const live = this.#current;
    this.#current = null;
    const socket = live ? socketOf(live) : null;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.#options.closeTimeoutMs)));
    const outcome = await Promise.race([(this.#model?.close() ?? Promise.resolve()).then(() => 'closed' as const, () => 'closed' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.#logger.warn({ timeoutMs: this.#options.closeTimeoutMs }, 'the broker did not answer the close in time; dropping the socket');
    // Also after a clean close: amqplib ends its side and leaves the socket to the broker, which
    // does not read a blocked connection, so only destroying it frees the process.
    socket?.destroy();
  }
}

/** The TCP socket under an amqplib connection (not in its types; amqplib keeps it as `stream`). */
function socketOf(model: ChannelModel): Socket | null {
  const stream = (model.connection as unknown as { stream?: Socket }).stream;
  return stream && typeof stream.destroy === 'function' ? stream : null;
}
