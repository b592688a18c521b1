/**
 * A bound on a broker round trip. A connection the broker has blocked (resource alarm) or a
 * half-open one answers nothing, ever: every wait on the broker needs a deadline, or the caller
 * (the relay's loop, a shutdown) hangs with it.
 */
import { InfrastructureError } from '@drover/core';

/**
 * Resolves or rejects as `work` does, or rejects with a timeout error naming `what` after `ms`.
 * The timer is cleared either way, so it never keeps the process alive; `work` itself is not
 * cancelled, only no longer waited for (its late rejection is swallowed). A value that arrives
 * after the deadline goes to `abandon` (a channel opened too late is closed, not leaked).
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string, abandon?: (late: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      reject(new InfrastructureError(`amqp broker: ${what} took longer than ${ms} ms`));
    }, ms);
  });
  work.then(
    (value) => {
      if (expired) abandon?.(value);
    },
    () => undefined,
  );
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a channel without waiting: on a half-open or blocked connection the close is never answered. */
export function dropChannel(channel: { close(): Promise<void> }): void {
  channel.close().catch(() => undefined);
}
