/**
 * Settles one channel's deliveries with as few frames as possible. Acks made in one turn of the
 * event loop go out together at its end: the longest run of settled deliveries at the head of the
 * channel's outstanding ones as a single `multiple` ack, the rest one by one. Every frame is a
 * socket write for us and a command for the broker; on this machine a write costs about as much as
 * running a no-op job, so under load this removes most of them. An ack is never held back past
 * the current turn, so a delivery that finished early does not keep its prefetch slot while an
 * older one runs on.
 */

/** The amqplib channel calls this needs (a test can pass a fake). */
export interface AckChannel {
  ack(message: { fields: { deliveryTag: number } }, allUpTo?: boolean): void;
  nack(message: { fields: { deliveryTag: number } }, allUpTo?: boolean, requeue?: boolean): void;
}

export class Acker {
  /** Delivery tags not yet settled, in delivery order (the broker numbers them upwards per channel); at most the prefetch. */
  #outstanding: number[] = [];
  readonly #acked = new Set<number>();
  #scheduled = false;

  /**
   * `onError` hears of a scheduled flush that failed: the channel closed meanwhile, so the broker
   * has requeued those deliveries already and the duplicates they cause are harmless.
   */
  constructor(
    private readonly channel: AckChannel,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Records a delivery; call in delivery order. */
  delivered(tag: number): void {
    this.#outstanding.push(tag);
  }

  /** Acks at the end of the current turn. */
  ack(tag: number): void {
    this.#acked.add(tag);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        try {
          this.flush();
        } catch (err) {
          this.onError(err);
        }
      });
    }
  }

  /** Nacks at once: a `multiple` ack must never cover it, so it leaves the outstanding list now. */
  nack(tag: number, requeue: boolean): void {
    this.#acked.delete(tag);
    this.#outstanding = this.#outstanding.filter((t) => t !== tag);
    this.channel.nack({ fields: { deliveryTag: tag } }, false, requeue);
  }

  /** Sends the pending acks. Throws what the channel throws (a closed channel); the caller decides. */
  flush(): void {
    this.#scheduled = false;
    if (this.#acked.size === 0) return;
    let head = 0;
    while (head < this.#outstanding.length && this.#acked.has(this.#outstanding[head]!)) head++;
    const upTo = head > 0 ? this.#outstanding[head - 1]! : null;
    const tail = this.#outstanding.slice(head);
    // Settled out of order: one frame each.
    const single = tail.filter((t) => this.#acked.has(t));
    this.#outstanding = single.length > 0 ? tail.filter((t) => !this.#acked.has(t)) : tail;
    this.#acked.clear();
    if (upTo !== null) this.channel.ack({ fields: { deliveryTag: upTo } }, true);
    for (const tag of single) this.channel.ack({ fields: { deliveryTag: tag } }, false);
  }
}
