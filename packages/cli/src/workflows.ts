/**
 * The workflow engine as the composition roots run it: in every scheduler process and in
 * `drover dev`, behind DROVER_WORKFLOWS (on by default). Engines on one namespace share the work
 * (each run is stepped under its row lock), so running one per scheduler is safe.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ValidationError, type Broker, type JobStore, type Logger } from '@drover/core';
import { createEvaluator, createMachine, createSandbox, createTypeChecker, createWorkflowEngine, type Machine, type WorkflowEngine } from '@drover/workflow';
import type { Config } from './config.js';

/**
 * The engine for this process, or null when workflows are off. The step machine is the workflow
 * package's (JCL, inline blocks in the QuickJS sandbox); DROVER_WORKFLOW_MACHINE names a module
 * exporting another `machine`, which the fault tests use to drive the engine with a scripted one.
 */
export async function workflowEngineFor(config: Config, parts: { store: JobStore; broker: Broker; logger: Logger }): Promise<WorkflowEngine | null> {
  if (!config.DROVER_WORKFLOWS) return null;
  const machine = config.DROVER_WORKFLOW_MACHINE ? await loadMachine(config.DROVER_WORKFLOW_MACHINE) : jclMachine();
  return createWorkflowEngine({
    store: parts.store,
    broker: parts.broker,
    machine,
    logger: parts.logger,
    ...(config.DROVER_WORKFLOW_LEASE_MS === undefined ? {} : { leaseMs: config.DROVER_WORKFLOW_LEASE_MS }),
  });
}

async function loadMachine(modulePath: string): Promise<Machine> {
  const url = pathToFileURL(isAbsolute(modulePath) ? modulePath : resolve(process.cwd(), modulePath)).href;
  let mod: { machine?: Machine };
  try {
    mod = (await import(url)) as { machine?: Machine };
  } catch (err) {
    throw new ValidationError('DROVER_WORKFLOW_MACHINE', `cannot load ${modulePath}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.machine?.advance !== 'function') throw new ValidationError('DROVER_WORKFLOW_MACHINE', `${modulePath} exports no "machine" with an advance method`);
  return mod.machine;
}

/** JobCenter's language: the built-in step machine. */
export function jclMachine(): Machine {
  const types = createTypeChecker({});
  return createMachine({ evaluator: createEvaluator({ sandbox: createSandbox(), types }), types });
}
