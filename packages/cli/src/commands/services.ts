/**
 * The long-running commands: controller, scheduler, both at once (`up`), and worker. The services
 * migrate first (idempotent, under an advisory lock); a worker only waits for the schema to be
 * current, so it needs no DDL rights. Each comes up even when started during an outage (see
 * start-retry.ts), runs until a signal, then stops in reverse order.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ValidationError, type FlowControl, type Logger, type PresenceOptions } from '@drover/core';
import { MemoryFlowControl, RedisFlowControl } from '@drover/flow-control';
import { createController } from '@drover/controller';
import { createScheduler } from '@drover/scheduler';
import { DEFAULT_OUTCOME_GRACE_MS, createWorker, type FunctionOptions, type Handler } from '@drover/worker';
import { httpListenOptions, required, type Config } from '../config.js';
import { rpcListenOptions } from '../rpc-config.js';
import { SchemaNotReady, createLogger, createRuntime, onShutdown, type Runtime } from '../runtime.js';
import { ServiceDown, needs, startWithRetry } from '../start-retry.js';
import { workflowEngineFor } from '../workflows.js';

/** Runs the controller, the scheduler or both until a signal; resolves once stopped. */
export async function runServices(config: Config, which: { controller: boolean; scheduler: boolean }): Promise<void> {
  const command = which.controller && which.scheduler ? 'up' : which.controller ? 'controller' : 'scheduler';
  const component = command === 'up' ? 'drover' : command;
  // Missing configuration is not an outage: it fails at once, before any waiting.
  required(config, 'DATABASE_URL', command);
  if (which.controller) required(config, 'AMQP_URL', command);
  const logger = createLogger(config.LOG_LEVEL ?? 'info', component);
  const shutdown = onShutdown(logger);
  const running = await startWithRetry(command, async (onClose) => {
    const rt = createRuntime(config, component, command, logger);
    onClose(() => rt.close());
    await needs('PostgreSQL', () => rt.migrate());
    const scheduler = which.scheduler
      ? createScheduler({ store: rt.store, logger, pollMs: config.DROVER_SCHEDULER_POLL_MS, trimEveryMs: config.DROVER_SCHEDULER_TRIM_EVERY_MS })
      : null;
    // The controller does not wait for RabbitMQ: its API takes jobs into PostgreSQL meanwhile, and
    // the relay publishes them once the broker's connection (retried in the background) is back.
    const controller = which.controller
      ? createController({
          store: rt.store,
          broker: await rt.broker(),
          clients: rt.store.clients,
          logger,
          relay: { sweepMs: config.DROVER_RELAY_SWEEP_MS, staleMs: config.DROVER_REDISPATCH_AFTER_MS, maxInBrokerPerFunction: config.DROVER_RELAY_MAX_IN_BROKER },
          http: httpListenOptions(config),
          rpc: rpcListenOptions(config),
          ...presenceOf(rt),
        })
      : null;
    if (scheduler) {
      await needs('PostgreSQL', () => scheduler.start());
      onClose(() => scheduler.stop());
    }
    if (controller) {
      await needs('PostgreSQL', () => controller.start());
      onClose(() => controller.stop());
    }
    // Every scheduler process runs the workflow engine (it needs the broker: a scheduler started
    // without AMQP_URL runs none). It does not wait for RabbitMQ: a scheduler starts with only
    // PostgreSQL, and the engine consumes the workflows' queues once the broker answers.
    const engine = which.scheduler && config.AMQP_URL ? await workflowEngineFor(config, { store: rt.store, broker: await rt.broker(), logger }) : null;
    if (engine) {
      await needs('PostgreSQL', () => engine.start());
      onClose(() => engine.stop());
    }
    return { rt, scheduler, controller, engine };
  }, { logger, signal: shutdown.signal });
  if (!running) return;
  const { rt, scheduler, controller, engine } = running;
  logger.info({ namespace: config.DROVER_NAMESPACE, api: controller?.url ?? null }, 'drover running; SIGTERM or Ctrl-C stops it');
  await shutdown.requested;
  await engine?.stop();
  await controller?.stop();
  await scheduler?.stop();
  await rt.close();
}

/** What a handlers module exports: `functions` (and optionally `slotGroups`), as named or default exports. */
interface HandlersModule {
  functions?: Record<string, Handler | FunctionOptions>;
  slotGroups?: Record<string, number>;
  default?: { functions?: Record<string, Handler | FunctionOptions>; slotGroups?: Record<string, number> };
}

export async function loadHandlers(modulePath: string): Promise<{ functions: Record<string, Handler | FunctionOptions>; slotGroups?: Record<string, number> }> {
  const url = pathToFileURL(isAbsolute(modulePath) ? modulePath : resolve(process.cwd(), modulePath)).href;
  let mod: HandlersModule;
  try {
    mod = (await import(url)) as HandlersModule;
  } catch (err) {
    throw new ValidationError('module', `cannot load ${modulePath}: ${(err as Error).message}`, { cause: err });
  }
  const functions = mod.functions ?? mod.default?.functions;
  if (!functions) throw new ValidationError('module', `${modulePath} exports no "functions" (named or on its default export)`);
  const slotGroups = mod.slotGroups ?? mod.default?.slotGroups;
  return { functions, ...(slotGroups ? { slotGroups } : {}) };
}

/** Runs a worker for a handlers module until a signal; resolves once stopped. */
export async function runWorker(config: Config, modulePath: string): Promise<void> {
  const handlers = await loadHandlers(modulePath);
  required(config, 'DATABASE_URL', 'worker');
  required(config, 'AMQP_URL', 'worker');
  const logger = createLogger(config.LOG_LEVEL ?? 'info', 'worker');
  const shutdown = onShutdown(logger);
  const running = await startWithRetry('worker', async (onClose) => {
    const rt = createRuntime(config, 'worker', 'worker', logger);
    onClose(() => rt.close());
    // A worker runs on the schema a controller, a scheduler or `drover migrate` keeps current.
    await needs('PostgreSQL', () =>
      rt.requireSchema().catch((err: unknown) => {
        throw err instanceof SchemaNotReady ? new ServiceDown(`the schema of namespace ${config.DROVER_NAMESPACE}`, { cause: err }) : err;
      }),
    );
    const flowControl = flowControlFor(config, handlers.functions, logger);
    if (flowControl) onClose(() => flowControl.close());
    const worker = createWorker({
      store: rt.store, broker: await rt.broker(), logger, shutdownGraceMs: config.DROVER_SHUTDOWN_GRACE_MS, ...outcomeGrace(config), ...presenceOf(rt), ...handlers,
      ...(flowControl ? { flowControl, flowFailOpen: config.DROVER_FLOW_FAIL_OPEN } : {}),
    });
    await needs('RabbitMQ', () => worker.start());
    onClose(() => worker.stop());
    return { rt, worker };
  }, { logger, signal: shutdown.signal });
  if (!running) return;
  const { rt, worker } = running;
  logger.info({ workerId: worker.workerId, functions: Object.keys(handlers.functions) }, 'worker running; SIGTERM or Ctrl-C stops it');
  await shutdown.requested;
  await worker.stop();
  await rt.close();
}

/** Presence from REDIS_URL, as an option to spread: none when it is unset. Redis is not waited for: presence is disposable. */
function presenceOf(rt: Runtime): { presence?: PresenceOptions } {
  const presence = rt.presence();
  return presence ? { presence } : {};
}

/**
 * Flow control for a worker whose functions set a rateLimit or concurrency: Redis when REDIS_URL is
 * set (fleet-wide; a Redis down at start is waited for by the functions that need it, not by the
 * worker), else memory, which limits this process alone. None when no function is limited.
 */
function flowControlFor(config: Config, functions: Record<string, Handler | FunctionOptions>, logger: Logger): FlowControl | null {
  const limited = Object.values(functions).some((f) => typeof f === 'object' && f !== null && (f.rateLimit !== undefined || f.concurrency !== undefined));
  if (!limited) return null;
  if (config.REDIS_URL) return new RedisFlowControl({ url: config.REDIS_URL, namespace: config.DROVER_NAMESPACE, logger });
  logger.warn({}, 'REDIS_URL is not set: rate limits and concurrency caps hold within this worker process only');
  return new MemoryFlowControl();
}

/**
 * A worker keeps writing a decided outcome past its lease for as long as the scheduler leaves such
 * leases alone after a database restart, and a little more (the database's start and the write's
 * retry backoff): when DROVER_RESTART_GRACE_MS is raised, the worker's grace follows it.
 */
function outcomeGrace(config: Config): { outcomeGraceMs?: number } {
  const restartGraceMs = config.DROVER_RESTART_GRACE_MS;
  if (restartGraceMs === undefined) return {};
  return { outcomeGraceMs: Math.max(DEFAULT_OUTCOME_GRACE_MS, restartGraceMs + OUTCOME_GRACE_MARGIN_MS) };
}

/** The database's start and the outcome write's retry backoff (up to 5 s between tries), as in the worker's own default. */
const OUTCOME_GRACE_MARGIN_MS = 15_000;
