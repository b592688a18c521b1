/**
 * The Host a step machine runs against in the engine: every effect is a write on the step's
 * transaction, so it commits with the step's new state or not at all (a child created by a step
 * that then fails never exists). Events and locks are another part's tables (migration 0013);
 * until an extension provides them, a workflow that uses them fails with a fatal error.
 */
import type { Clock, WorkflowRun, WorkflowStepTx } from '@drover/core';
import { WorkflowError, type Host } from '../ports.js';

/**
 * Adds to (or replaces parts of) the step's Host: how events and locks are plugged in, on the same
 * transaction as the rest of the step.
 */
export type HostExtension = (base: Host, tx: WorkflowStepTx, run: WorkflowRun) => Host;

/** The Host of one step of `run`, on `tx`. */
export function createStepHost(tx: WorkflowStepTx, run: WorkflowRun, clock: Clock, extend?: HostExtension): Host {
  const unavailable = (what: string) => async (): Promise<never> => {
    throw new WorkflowError('fatal', `${what} is not available: this engine has no ${what} support`);
  };
  const base: Host = {
    now: () => clock.now(),
    // A detached child has no parent: its outcome is reported to nobody, and it outlives the workflow.
    createChild: (request) => tx.insertChild(request.detached ? null : run.jobId, { funcname: request.name, arg: request.arg }),
    cancelChildren: async (jobIds) => {
      await tx.cancelJobs(jobIds);
    },
    raiseEvent: unavailable('raise_event'),
    subscribe: unavailable('subscribe'),
    unsubscribe: unavailable('unsubscribe'),
    lock: unavailable('lock'),
    unlock: unavailable('unlock'),
  };
  return extend ? extend(base, tx, run) : base;
}
