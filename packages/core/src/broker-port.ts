/**
 * The broker's port: what Drover needs from a dispatcher. Adapters are in `@drover/broker`
 * (RabbitMQ and in-memory), which pass one conformance suite.
 */

/** A message as a broker delivers it: it carries a job id, never the job. */
export interface Delivery {
  /** The function whose queue delivered it. */
  funcname: string;
  /** The message body as text; a Drover message holds a job id. Anything else is someone else's message. */
  body: string;
  /** True when the broker delivered this message before (to this or another consumer). */
  redelivered: boolean;
  /** Acknowledge: the broker forgets the message. A no-op if the channel it came on has closed. */
  ack(): void;
  /** Give the message back to the queue (true) or drop it (false). */
  nack(requeue: boolean): void;
}

/** One job to dispatch. */
export interface Dispatch {
  funcname: string;
  jobId: string;
  /** The job's priority, -100..100; adapters map it onto what the broker supports. */
  priority: number;
}

/** A running consumer. */
export interface Subscription {
  /** Stops new deliveries; deliveries already handed out stay with the caller to settle. */
  cancel(): Promise<void>;
  /** Stops deliveries and gives every unsettled one back to its queue. */
  close(): Promise<void>;
}

/**
 * The dispatcher. Never the truth: losing a message may delay a job, never lose it; a duplicate
 * message must be harmless (the claim in the store decides).
 */
export interface Broker {
  /**
   * Publishes and resolves once the broker confirmed every message; rejects if any was not, and
   * never hangs: it rejects when the broker is blocked, or when confirms do not come in time.
   */
  publish(dispatches: readonly Dispatch[]): Promise<void>;
  /**
   * Consumes the queues of one or more functions with at most `prefetch` unacknowledged deliveries
   * across all of them: a slot group is several functions sharing one prefetch (JobCenter).
   */
  consume(funcnames: readonly string[], prefetch: number, onDelivery: (delivery: Delivery) => void): Promise<Subscription>;
  /** Messages waiting in a function's queue (not counting delivered, unacknowledged ones). */
  queueDepth(funcname: string): Promise<number>;
  /**
   * Calls `listener` whenever messages may have been lost: the connection came back after it was
   * lost, and messages were not persistent, so a broker restart would have dropped them. The jobs
   * of such messages need publishing again. Returns a function that stops listening.
   */
  onMessagesLost(listener: () => void): () => void;
  /**
   * Calls `listener` when the broker stops accepting publishes (true, with its reason: RabbitMQ's
   * memory or disk alarm) and when it accepts them again (false). While blocked, publish() rejects
   * at once; consuming goes on. Returns a function that stops listening.
   */
  onBlocked(listener: (blocked: boolean, reason: string | null) => void): () => void;
  /** Stops consuming and closes within a bound, even while the broker is blocked or unreachable. */
  close(): Promise<void>;
}
