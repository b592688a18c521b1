/**
 * A LISTEN connection that survives database restarts: on error or end it reconnects with backoff
 * and listens again. Notifications sent while it was away are lost, which is why every listener
 * in Drover also polls.
 */
import pg from 'pg';
import { silentLogger, type Logger } from '@drover/core';
import { quoteIdentifier } from '../namespace.js';
import { endSession } from './session.js';

/** Reconnect backoff: quick for a blip, capped so a restarted database is found within seconds. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/** A LISTEN session; {@link listenForever} makes one. */
export interface Listener {
  close(): Promise<void>;
}

/** Options of {@link listenForever}. */
export interface ListenOptions {
  /**
   * How often to ping the session (ms): a LISTEN connection otherwise sends nothing, so a silent
   * network would go unnoticed. A ping that fails or outlives the query timeout reconnects.
   */
  pingMs?: number;
}

/** Listens on `channel` (an identifier: lower-case letters, digits, _) and calls `onPayload` for each notification. */
export async function listenForever(
  config: pg.ClientConfig,
  channel: string,
  onPayload: (payload: string) => void,
  logger: Logger = silentLogger,
  options: ListenOptions = {},
): Promise<Listener> {
  let closed = false;
  let pinging = false;
  let client: pg.Client | null = null;
  let delay = RECONNECT_MIN_MS;
  let timer: NodeJS.Timeout | undefined;
  /** The connect in progress, which close() waits for so that it cannot leave a connection behind. */
  let connecting: Promise<void> | null = null;

  const connect = (): Promise<void> => (connecting = attempt().finally(() => (connecting = null)));

  const attempt = async (): Promise<void> => {
    if (closed) return;
    const next = new pg.Client(config);
    next.on('notification', (n) => {
      if (n.channel === channel) onPayload(n.payload ?? '');
    });
    next.on('error', (err) => {
      logger.warn({ err: err.message, channel }, 'listen connection lost; reconnecting');
      retry(next);
    });
    next.on('end', () => retry(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${quoteIdentifier(channel)}`);
      if (closed) {
        // close() came while this connection was being made: it must not outlive the listener.
        await endSession(next);
        return;
      }
      client = next;
      delay = RECONNECT_MIN_MS;
      // Reconnected: anything may have happened while away, so report a wake-up now.
      onPayload('reconnected');
    } catch (err) {
      logger.warn({ err: (err as Error).message, channel, retryInMs: delay }, 'listen connection failed');
      retry(next);
    }
  };

  const retry = (failed: pg.Client): void => {
    // endSession catches its own errors; the catch is for a bug, so it cannot end the process.
    endSession(failed).catch((err: unknown) => logger.warn({ err: (err as Error).message, channel }, 'ending a listen session failed'));
    if (closed || (client !== null && client !== failed) || timer) return;
    client = null;
    timer = setTimeout(() => {
      timer = undefined;
      connect().catch((err: unknown) => logger.warn({ err: (err as Error).message, channel }, 'listen reconnect failed'));
    }, delay);
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  };

  const ping = async (): Promise<void> => {
    const session = client;
    if (!session || pinging || closed) return;
    pinging = true;
    try {
      await session.query('SELECT 1');
    } catch (err) {
      logger.warn({ err: (err as Error).message, channel }, 'listen connection did not answer; reconnecting');
      retry(session);
    } finally {
      pinging = false;
    }
  };
  const pinger = options.pingMs ? setInterval(() => {
    ping().catch((err: unknown) => logger.warn({ err: (err as Error).message, channel }, 'listen ping failed'));
  }, options.pingMs) : undefined;
  // The pings alone must not keep a process alive that has nothing else to do.
  pinger?.unref();

  await connect();
  return {
    close: async () => {
      closed = true;
      clearInterval(pinger);
      clearTimeout(timer);
      await connecting;
      const c = client;
      client = null;
      await endSession(c);
    },
  };
}
