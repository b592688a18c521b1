/**
 * Builds what a command needs from the configuration, and tears it down in reverse order. Long-
 * running commands stop on the first SIGTERM or SIGINT, draining within their bounds; a second
 * signal exits at once. Only the commands that own the schema migrate; the others read the ledger
 * (`requireSchema`) and need no DDL rights.
 */
import { pino } from 'pino';
import { retryPolicy, type Logger, type PresenceOptions, type RetryPolicy } from '@drover/core';
import { createAmqpBroker, type AmqpBroker } from '@drover/broker';
import { createRedisPresence, type RedisPresence } from '@drover/presence';
import { createPgStore, migrate, schemaStatus, type PgJobStore, type SchemaStatus } from '@drover/store';
import { required, type Config } from './config.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  store: PgJobStore;
  /** Connects on first use. */
  broker(): Promise<AmqpBroker>;
  /** Presence in Redis when REDIS_URL is set (connects in the background, on first use); otherwise null. */
  presence(): PresenceOptions | null;
  migrate(): Promise<string[]>;
  /** Reads the ledger, creating nothing; throws a {@link SchemaNotReady} unless the schema is current. */
  requireSchema(): Promise<void>;
  close(): Promise<void>;
}

/** The namespace's schema is missing or older than this code: someone with DDL rights must migrate it. */
export class SchemaNotReady extends Error {
  override name = 'SchemaNotReady';
  constructor(readonly status: SchemaStatus) {
    super(
      status.state === 'missing'
        ? `namespace ${status.schema} is not migrated (schema ${status.schema} has no migration ledger); run \`drover migrate\` with a role that may create it`
        : `namespace ${status.schema} is at migration ${status.applied} of ${status.expected}; run \`drover migrate\` to bring it up to date`,
    );
  }
}

/** The backoff after a lease expired: from `baseMs`, doubling up to a day. */
export function leaseRetryPolicy(baseMs: number): RetryPolicy {
  return retryPolicy({ baseDelayMs: baseMs, maxDelayMs: Math.max(baseMs, 86_400_000) });
}

/** Logs go to stderr, so that stdout carries only the command's output (and --json stays parseable). */
export function createLogger(level: string, component: string): Logger {
  return pino({ level, base: { service: component } }, pino.destination(2));
}

/** The store and broker on the real services; `command` names who needs them, for the error. */
export function createRuntime(config: Config, component: string, command = component, logger = createLogger(config.LOG_LEVEL ?? 'info', component)): Runtime {
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
  let presence: RedisPresence | null = null;
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
    presence: () => {
      if (!config.REDIS_URL) return null;
      presence ??= createRedisPresence({ url: config.REDIS_URL, namespace: config.DROVER_NAMESPACE, logger, connectionName: `drover-${component}` });
      return { presence, ...(config.DROVER_HEARTBEAT_MS === undefined ? {} : { heartbeatMs: config.DROVER_HEARTBEAT_MS }) };
    },
    migrate: async () => (await migrate(store.pool, { namespace: config.DROVER_NAMESPACE, logger })).applied,
    requireSchema: async () => {
      const status = await schemaStatus(store.pool, { namespace: config.DROVER_NAMESPACE });
      if (status.state !== 'current') throw new SchemaNotReady(status);
    },
    close: async () => {
      if (broker) await (await broker).close();
      await presence?.close();
      await store.close();
    },
  };
}

/** A long-running command's shutdown request: aborted on the first SIGTERM or SIGINT. */
export interface Shutdown {
  readonly signal: AbortSignal;
  /** Resolves on the first SIGTERM or SIGINT. */
  readonly requested: Promise<void>;
}

/**
 * Listens for SIGTERM and SIGINT from now on, so that a signal while the command still waits for
 * its services ends the wait; a second signal exits with status 130.
 */
export function onShutdown(logger: Logger): Shutdown {
  const controller = new AbortController();
  const requested = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (controller.signal.aborted) {
        logger.warn({ signal }, 'second signal: exiting at once');
        process.exit(130);
      }
      logger.info({ signal }, 'shutting down');
      controller.abort();
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return { signal: controller.signal, requested };
}

/** Runs until SIGTERM or SIGINT, then calls `stop` once; a second signal exits with status 130. */
export async function untilSignal(logger: Logger, stop: () => Promise<void>): Promise<void> {
  await onShutdown(logger).requested;
  await stop();
}
