/**
 * Starting while a service is down. A fleet restarted during an outage must come up by itself
 * once PostgreSQL or RabbitMQ returns, not exit and wait for a supervisor: each long-running
 * command builds everything it needs in one try, and a try that fails because a service is down
 * tears down what it built and is made again after a capped exponential backoff, logging what is
 * down and when the next try is. Bad configuration and a ledger this code does not know are not
 * outages: they fail at once. A shutdown signal during the wait ends it cleanly.
 */
import { QueueConflictError } from '@drover/broker';
import { ValidationError, type Logger } from '@drover/core';
import { MigrationError } from '@drover/store';

/** A try failed because `service` could not be reached or is not ready; worth trying again. */
export class ServiceDown extends Error {
  override name = 'ServiceDown';
  constructor(readonly service: string, options: ErrorOptions) {
    super(`${service} is not available: ${(options.cause as Error | undefined)?.message ?? 'unknown error'}`, options);
  }
}

/**
 * Errors that waiting cannot cure: bad configuration, a foreign ledger, a port already taken, a
 * queue that exists on RabbitMQ with other arguments (the broker refuses it every time).
 */
function isFatal(err: unknown): boolean {
  if (err instanceof ValidationError || err instanceof MigrationError || err instanceof QueueConflictError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL';
}

/** Runs one step of a try; an error it throws, unless fatal, says `service` is down. */
export async function needs<T>(service: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (isFatal(err) || err instanceof ServiceDown) throw err;
    throw new ServiceDown(service, { cause: err });
  }
}

/** Backoff between tries. */
export interface StartBackoff {
  /** First wait: a blip (a restart takes a few seconds here) is ridden out quickly. */
  initialMs: number;
  /**
   * Longest wait: the end of a long outage is noticed within this, while a large fleet probing
   * costs the recovering service one connection per process per interval.
   */
  maxMs: number;
}

/** 0.5 s doubling to 10 s: a PostgreSQL or RabbitMQ restart here takes 2–8 s. */
export const DEFAULT_START_BACKOFF: StartBackoff = { initialMs: 500, maxMs: 10_000 };
/** ±20 % keeps a fleet restarted together from probing in lockstep. */
const JITTER = 0.2;

/** What a try registers so that a failed or abandoned try leaves nothing open. */
export type Closer = () => Promise<void>;

/**
 * Calls `attempt` until it succeeds, an error is fatal, or `signal` aborts. Resolves with the
 * attempt's value, or null when aborted (everything the pending try opened is closed).
 */
export async function startWithRetry<T>(
  what: string,
  attempt: (onClose: (closer: Closer) => void) => Promise<T>,
  options: { logger: Logger; signal: AbortSignal; backoff?: StartBackoff },
): Promise<T | null> {
  const { logger, signal, backoff = DEFAULT_START_BACKOFF } = options;
  for (let tryNo = 1; ; tryNo++) {
    if (signal.aborted) return null;
    const closers: Closer[] = [];
    const closeAll = async (): Promise<void> => {
      for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    };
    const pending = attempt((c) => closers.push(c));
    // Keeps a try abandoned on a signal from reporting an unhandled rejection later.
    pending.catch(() => undefined);
    const outcome = await Promise.race([
      pending.then((value) => ({ value }), (err: unknown) => ({ err })),
      aborted(signal).then(() => ({ aborted: true as const })),
    ]);
    if ('aborted' in outcome) {
      logger.info({ what }, 'stopped while waiting for the services to start');
      await closeAll();
      return null;
    }
    if ('value' in outcome) return outcome.value;
    await closeAll();
    if (!(outcome.err instanceof ServiceDown)) throw outcome.err;
    const delay = Math.round(Math.min(backoff.maxMs, backoff.initialMs * 2 ** (tryNo - 1)) * (1 + JITTER * (2 * Math.random() - 1)));
    logger.warn({ what, down: outcome.err.service, err: (outcome.err.cause as Error | undefined)?.message, try: tryNo, nextTryInMs: delay }, `${what} cannot start: ${outcome.err.service} is not available; trying again in ${delay} ms`);
    await sleep(delay, signal);
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
