/**
 * The long-running commands: controller, scheduler, both at once (`up`), and worker. Each migrates
 * first (idempotent, under an advisory lock), runs until a signal, then stops in reverse order.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ValidationError } from '@drover/core';
import { createController } from '@drover/controller';
import { createScheduler } from '@drover/scheduler';
import { createWorker, type FunctionOptions, type Handler } from '@drover/worker';
import type { Config } from '../config.js';
import { createRuntime, untilSignal } from '../runtime.js';

export async function runServices(config: Config, which: { controller: boolean; scheduler: boolean }): Promise<void> {
  const command = which.controller && which.scheduler ? 'up' : which.controller ? 'controller' : 'scheduler';
  const rt = createRuntime(config, command === 'up' ? 'drover' : command, command);
  await rt.migrate();
  const scheduler = which.scheduler
    ? createScheduler({ store: rt.store, logger: rt.logger, pollMs: config.DROVER_SCHEDULER_POLL_MS })
    : null;
  const controller = which.controller
    ? createController({
        store: rt.store,
        broker: await rt.broker(),
        logger: rt.logger,
        relay: { sweepMs: config.DROVER_RELAY_SWEEP_MS, staleMs: config.DROVER_REDISPATCH_AFTER_MS, maxInBrokerPerFunction: config.DROVER_RELAY_MAX_IN_BROKER },
        http: { host: config.DROVER_HTTP_HOST, port: config.DROVER_HTTP_PORT },
      })
    : null;
  await scheduler?.start();
  await controller?.start();
  rt.logger.info({ namespace: config.DROVER_NAMESPACE, api: controller?.url ?? null }, 'drover running; SIGTERM or Ctrl-C stops it');
  await untilSignal(rt.logger, async () => {
    await controller?.stop();
    await scheduler?.stop();
    await rt.close();
  });
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

export async function runWorker(config: Config, modulePath: string): Promise<void> {
  const handlers = await loadHandlers(modulePath);
  const rt = createRuntime(config, 'worker');
  const worker = createWorker({ store: rt.store, broker: await rt.broker(), logger: rt.logger, shutdownGraceMs: config.DROVER_SHUTDOWN_GRACE_MS, ...handlers });
  await rt.migrate();
  await worker.start();
  rt.logger.info({ workerId: worker.workerId, functions: Object.keys(handlers.functions) }, 'worker running; SIGTERM or Ctrl-C stops it');
  await untilSignal(rt.logger, async () => {
    await worker.stop();
    await rt.close();
  });
}
