/**
 * Builds what a command needs from the configuration, and tears it down in reverse order. Long-
 * running commands stop on the first SIGTERM or SIGINT, draining within their bounds; a second
 * signal exits at once.
 */
import { pino } from 'pino';
import { retryPolicy, type Logger } from '@drover/core';
import { createAmqpBroker, type AmqpBroker } from '@drover/broker';
import { createPgStore, migrate, type PgJobStore } from '@drover/store';
import type { Config } from './config.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  store: PgJobStore;
  /** Connects on first use. */
  broker(): Promise<AmqpBroker>;
  migrate(): Promise<string[]>;
  close(): Promise<void>;
}

export function createRuntime(config: Config, component: string): Runtime {
  // Logs go to stderr, so that stdout carries only the command's output (and --json stays parseable).
  const logger = pino({ level: config.LOG_LEVEL, base: { service: component } }, pino.destination(2)) as unknown as Logger;
  const store = createPgStore({
    connectionString: config.DATABASE_URL,
    namespace: config.DROVER_NAMESPACE,
    applicationName: `drover-${component}`,
    retryPolicy: retryPolicy({ baseDelayMs: config.DROVER_RETRY_BASE_MS, maxDelayMs: Math.max(config.DROVER_RETRY_BASE_MS, 86_400_000) }),
    logger,
  });
  let broker: Promise<AmqpBroker> | null = null;
  return {
    config,
    logger,
    store,
    broker: () =>
      (broker ??= createAmqpBroker({
        url: config.AMQP_URL,
        namespace: config.DROVER_NAMESPACE,
        queueType: config.DROVER_QUEUE_TYPE,
        logger,
        connectionName: `drover-${component}`,
      })),
    migrate: async () => (await migrate(store.pool, { namespace: config.DROVER_NAMESPACE, logger })).applied,
    close: async () => {
      if (broker) await (await broker).close();
      await store.close();
    },
  };
}

/** Runs until SIGTERM or SIGINT, then calls `stop` once; a second signal exits with status 130. */
export function untilSignal(logger: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting at once');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      stop().then(resolve, reject);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
