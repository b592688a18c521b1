/**
 * The Host a step machine runs against in the engine: every effect is a write on the step's
 * transaction, so it commits with the step's new state or not at all (a child created by a step
 * that then fails never exists), and so is every event raised, subscription and lock (0013).
 */
import type { Clock, WorkflowRun, WorkflowStepTx } from '@drover/core';
import type { Host } from '../ports.js';

/**
 * Adds to (or replaces parts of) the step's Host: how events and locks are plugged in, on the same
 * transaction as the rest of the step.
 */
export type HostExtension = (base: Host, tx: WorkflowStepTx, run: WorkflowRun) => Host;

/** The Host of one step of `run`, on `tx`: children, events and locks all on the step's transaction. */
export function createStepHost(tx: WorkflowStepTx, run: WorkflowRun, clock: Clock, extend?: HostExtension): Host {
  const { runtime } = tx;
  const base: Host = {
    now: () => clock.now(),
    // A detached child has no parent: its outcome is reported to nobody, and it outlives the workflow.
    // Either way a child workflow asks for the version tag this one asked for (JobCenter's tag propagation).
    createChild: (request) => tx.insertChild(request.detached ? null : run.jobId, { funcname: request.name, arg: request.arg }, run.jobId),
    cancelChildren: async (jobIds) => {
      await tx.cancelJobs(jobIds);
    },
    // JobCenter's raise_event carries the event data alone; matching is on the data, and each
    // receiver sees its own subscription's name.
    raiseEvent: async (_name, data) => {
      await runtime.raiseWorkflowEvent(data);
    },
    subscribe: (name, mask) => runtime.subscribe(run.jobId, name, mask),
    unsubscribe: async (name) => {
      await runtime.unsubscribe(run.jobId, name);
    },
    lock: async (type, value, options) => runtime.lock(run.jobId, type, value, { ...options, parentJobIds: await tx.ancestors(run.jobId) }),
    unlock: (type, value) => runtime.unlock(run.jobId, type, value),
  };
  return extend ? extend(base, tx, run) : base;
}
