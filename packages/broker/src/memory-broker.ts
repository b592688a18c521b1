/**
 * The in-memory broker: one process, no durability, the same semantics as the RabbitMQ adapter
 * where they matter to Drover (per-function queues, priority order, a prefetch shared by a slot
 * group, redelivery of what a closed consumer left unsettled). For embedded mode and tests; a
 * lost message is recovered from PostgreSQL like any other.
 */
import { InfrastructureError, encodeJobId, validateFuncname, type Broker, type Delivery, type Dispatch, type Subscription } from '@drover/core';
import { brokerPriority, checkPrefetch } from './topology.js';

interface Message {
  funcname: string;
  body: string;
  priority: number;
  /** Publication order, to keep FIFO within a priority. */
  seq: number;
  redelivered: boolean;
}

interface Consumer {
  funcnames: ReadonlySet<string>;
  prefetch: number;
  unacked: Set<Message>;
  active: boolean;
  onDelivery: (delivery: Delivery) => void;
}

/** A broker in this process's memory. */
export class MemoryBroker implements Broker {
  readonly #queues = new Map<string, Message[]>();
  readonly #consumers: Consumer[] = [];
  #seq = 0;
  #closed = false;
  /** Rotates which consumer is served first, so a slot group does not starve its neighbours. */
  #turn = 0;
  readonly #lostListeners = new Set<() => void>();
  readonly #blockedListeners = new Set<(blocked: boolean, reason: string | null) => void>();
  #blockedReason: string | null = null;

  onMessagesLost(listener: () => void): () => void {
    this.#lostListeners.add(listener);
    return () => {
      this.#lostListeners.delete(listener);
    };
  }

  onBlocked(listener: (blocked: boolean, reason: string | null) => void): () => void {
    this.#blockedListeners.add(listener);
    return () => {
      this.#blockedListeners.delete(listener);
    };
  }

  /**
   * Blocks publishing with a reason, or unblocks it with null, as RabbitMQ does under a resource
   * alarm: publish() rejects while blocked, consuming goes on. (A test's stand-in for an alarm.)
   */
  simulateBlocked(reason: string | null): void {
    const was = this.#blockedReason;
    this.#blockedReason = reason;
    if ((was === null) === (reason === null)) return;
    for (const listener of [...this.#blockedListeners]) listener(reason !== null, reason);
  }

  /**
   * Loses every message, waiting and delivered, as a broker restart loses messages that were not
   * persistent, then says so to onMessagesLost's listeners. (A test's stand-in for restarting RabbitMQ.)
   */
  simulateRestart(): void {
    this.#queues.clear();
    for (const c of this.#consumers) c.unacked.clear();
    for (const listener of [...this.#lostListeners]) listener();
  }

  async publish(dispatches: readonly Dispatch[]): Promise<void> {
    if (this.#closed) throw new Error('memory broker: closed');
    if (this.#blockedReason !== null) throw new InfrastructureError(`memory broker: publishing refused: the broker is blocked (${this.#blockedReason})`);
    dispatches.forEach((d, i) => {
      validateFuncname(d.funcname, `dispatches[${i}].funcname`);
      encodeJobId(d.jobId);
    });
    for (const d of dispatches) {
      this.#enqueue({ funcname: d.funcname, body: d.jobId, priority: brokerPriority(d.priority), seq: this.#seq++, redelivered: false });
    }
    this.#pump();
  }

  /** Publishes an arbitrary body, as a foreign producer on a shared broker might. */
  async publishRaw(funcname: string, body: string): Promise<void> {
    this.#enqueue({ funcname: validateFuncname(funcname), body, priority: 0, seq: this.#seq++, redelivered: false });
    this.#pump();
  }

  async queueDepth(funcname: string): Promise<number> {
    return this.#queues.get(validateFuncname(funcname))?.length ?? 0;
  }

  async consume(funcnames: readonly string[], prefetch: number, onDelivery: (delivery: Delivery) => void): Promise<Subscription> {
    if (this.#closed) throw new Error('memory broker: closed');
    funcnames.forEach((f, i) => validateFuncname(f, `funcnames[${i}]`));
    const consumer: Consumer = { funcnames: new Set(funcnames), prefetch: checkPrefetch(prefetch), unacked: new Set(), active: true, onDelivery };
    this.#consumers.push(consumer);
    queueMicrotask(() => this.#pump());
    return {
      cancel: async () => {
        consumer.active = false;
      },
      close: async () => {
        consumer.active = false;
        this.#drop(consumer);
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const c of [...this.#consumers]) {
      c.active = false;
      this.#drop(c);
    }
  }

  #enqueue(message: Message): void {
    let queue = this.#queues.get(message.funcname);
    if (!queue) this.#queues.set(message.funcname, (queue = []));
    // Keep the queue sorted: higher priority first, then publication order.
    let i = queue.length;
    while (i > 0 && (queue[i - 1]!.priority < message.priority || (queue[i - 1]!.priority === message.priority && queue[i - 1]!.seq > message.seq))) i--;
    queue.splice(i, 0, message);
  }

  /** Removes a consumer and requeues what it held, as RabbitMQ does when a channel closes. */
  #drop(consumer: Consumer): void {
    const at = this.#consumers.indexOf(consumer);
    if (at >= 0) this.#consumers.splice(at, 1);
    for (const m of consumer.unacked) this.#enqueue({ ...m, redelivered: true });
    consumer.unacked.clear();
    this.#pump();
  }

  /** Hands waiting messages to consumers with free prefetch. */
  #pump(): void {
    if (this.#closed) return;
    let delivered = true;
    while (delivered) {
      delivered = false;
      const n = this.#consumers.length;
      for (let k = 0; k < n; k++) {
        const consumer = this.#consumers[(this.#turn + k) % n]!;
        if (!consumer.active || consumer.unacked.size >= consumer.prefetch) continue;
        const message = this.#take(consumer);
        if (!message) continue;
        this.#turn = (this.#turn + k + 1) % n;
        this.#deliver(consumer, message);
        delivered = true;
        break;
      }
    }
  }

  /** The best waiting message among the consumer's queues: highest priority, then oldest. */
  #take(consumer: Consumer): Message | undefined {
    let best: Message[] | undefined;
    for (const f of consumer.funcnames) {
      const queue = this.#queues.get(f);
      const head = queue?.[0];
      if (!head) continue;
      const current = best?.[0];
      if (!current || head.priority > current.priority || (head.priority === current.priority && head.seq < current.seq)) best = queue;
    }
    return best?.shift();
  }

  #deliver(consumer: Consumer, message: Message): void {
    consumer.unacked.add(message);
    let settled = false;
    const settle = (requeue: boolean): void => {
      // Like a delivery tag on a closed channel: settling twice, or after the consumer closed, does nothing.
      if (settled || !consumer.unacked.delete(message)) return;
      settled = true;
      if (requeue) this.#enqueue({ ...message, redelivered: true });
      this.#pump();
    };
    const delivery: Delivery = {
      funcname: message.funcname,
      body: message.body,
      redelivered: message.redelivered,
      ack: () => settle(false),
      nack: (requeue) => settle(requeue),
    };
    queueMicrotask(() => consumer.onDelivery(delivery));
  }
}
