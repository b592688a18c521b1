/**
 * Builds what a command needs from the configuration, and tears it down in reverse order. Long-
 * running commands stop on the first SIGTERM or SIGINT, draining within their bounds; a second
 * signal exits at once.
 */
import { pino } from 'pino';
import { retryPolicy, type Logger, type RetryPolicy } from '@drover/core';
import { createAmqpBroker, type AmqpBroker } from '@drover/broker';
import { createPgStore, migrate, type PgJobStore } from '@drover/store';
import { required, type Config } from './config.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  store: PgJobStore;
  /** Connects on first use. */
  broker(): Promise<AmqpBroker>;
  migrate(): Promise<string[]>;
  close(): Promise<void>;
}

/** The backoff after a lease expired: from `baseMs`, doubling up to a day. */
export function leaseRetryPolicy(baseMs: number): RetryPolicy {
  return retryPolicy({ baseDelayMs: baseMs, maxDelayMs: Math.max(baseMs, 86_400_000) });
}

/** Logs go to stderr, so that stdout carries only the command's output (and --json stays parseable). */
export function createLogger(level: string, component: string): Logger {
  return pino({ level, base: { service: component } }, pino.destination(2)) as unknown as Logger;
}

/** The store and broker on the real services; `command` names who needs them, for the error. */
export function createRuntime(config: Config, component: string, command = component): Runtime {
  const logger = createLogger(config.LOG_LEVEL ?? 'info', component);
  const store = createPgStore({
    connectionString: required(config, 'DATABASE_URL', command),
    namespace: config.DROVER_NAMESPACE,
    applicationName: `drover-${component}`,
    retryPolicy: leaseRetryPolicy(config.DROVER_RETRY_BASE_MS ?? 120_000),
    logger,
    timeouts: {
      ...(config.DROVER_PG_CONNECT_TIMEOUT_MS === undefined ? {} : { connectTimeoutMs: config.DROVER_PG_CONNECT_TIMEOUT_MS }),
      ...(config.DROVER_PG_QUERY_TIMEOUT_MS === undefined ? {} : { queryTimeoutMs: config.DROVER_PG_QUERY_TIMEOUT_MS }),
      ...(config.DROVER_PG_STATEMENT_TIMEOUT_MS === undefined ? {} : { statementTimeoutMs: config.DROVER_PG_STATEMENT_TIMEOUT_MS }),
      ...(config.DROVER_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS === undefined ? {} : { idleInTransactionTimeoutMs: config.DROVER_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS }),
      ...(config.DROVER_PG_KEEPALIVE_MS === undefined ? {} : { keepAliveIdleMs: config.DROVER_PG_KEEPALIVE_MS }),
    },
    ...(config.DROVER_RESTART_GRACE_MS === undefined ? {} : { restartGraceMs: config.DROVER_RESTART_GRACE_MS }),
    ...(config.DROVER_IDEMPOTENCY_KEY_RETENTION_MS === undefined ? {} : { idempotencyKeyRetentionMs: config.DROVER_IDEMPOTENCY_KEY_RETENTION_MS }),
  });
  let broker: Promise<AmqpBroker> | null = null;
  return {
    config,
    logger,
    store,
    broker: () =>
      (broker ??= createAmqpBroker({
        url: required(config, 'AMQP_URL', command),
        namespace: config.DROVER_NAMESPACE,
        queueType: config.DROVER_QUEUE_TYPE,
        persistentMessages: config.DROVER_PERSISTENT_MESSAGES,
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
