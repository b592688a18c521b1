/**
 * The broker's one error that is configuration, not an outage: a queue that already exists with
 * other arguments (queue type, priorities). RabbitMQ refuses the declaration with
 * PRECONDITION_FAILED (406) every time, so waiting cannot cure it; a start-up that meets it fails
 * at once with this message, while a running subscription keeps retrying (someone may delete the
 * queue) and says why in its log.
 */
import { InfrastructureError } from '@drover/core';

/** AMQP reply code PRECONDITION_FAILED: on queue.declare, the queue exists with other arguments. */
const PRECONDITION_FAILED = 406;

/** A queue exists on the broker with arguments other than the ones this broker declares it with. */
export class QueueConflictError extends InfrastructureError {
  override name = 'QueueConflictError';
  constructor(readonly queue: string, options: ErrorOptions) {
    super(
      `amqp broker: cannot declare queue ${queue}: it exists with other arguments (queue type or priorities) than this broker declares (${(options.cause as Error | undefined)?.message ?? 'PRECONDITION_FAILED'}); delete the queue or use another namespace`,
      options,
    );
  }
}

/** Whether an amqplib error is the broker's PRECONDITION_FAILED refusal. */
export function isPreconditionFailed(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === PRECONDITION_FAILED;
}
