/**
 * A workflow's locks and events over a SQL executor: the store side of the workflow engine's host.
 * The engine reaches it as `store.withExecutor(tx).workflows`, so that each operation runs inside
 * the transaction of the step that asked (a savepoint there), and commits with the step.
 */
import type { Json, RaisedWorkflowEvent, WorkflowEventRecord, WorkflowEventStore, WorkflowLockAnswer, WorkflowLockHolder, WorkflowLockOptions, WorkflowLockStore } from '@drover/core';
import type { StoreContext } from './internal/context.js';
import * as events from './internal/workflow-events.js';
import * as locks from './internal/workflow-locks.js';

/** Workflow locks and events on the store's executor; every method's contract is on its port in @drover/core. */
export class SqlWorkflowStore implements WorkflowLockStore, WorkflowEventStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  lock(jobId: string, type: string, value: string, options: WorkflowLockOptions): Promise<WorkflowLockAnswer> {
    return locks.lock(this.#ctx, jobId, type, value, options);
  }

  unlock(jobId: string, type: string, value: string): Promise<boolean> {
    return locks.unlock(this.#ctx, jobId, type, value);
  }

  releaseAll(jobId: string): Promise<number> {
    return locks.releaseAll(this.#ctx, jobId);
  }

  cancelLockWait(jobId: string): Promise<boolean> {
    return locks.cancelLockWait(this.#ctx, jobId);
  }

  checkIfLockExists(type: string, value: string): Promise<WorkflowLockHolder | null> {
    return locks.checkIfLockExists(this.#ctx, type, value);
  }

  subscribe(jobId: string, name: string, mask: { [key: string]: Json }): Promise<void> {
    return events.subscribe(this.#ctx, jobId, name, mask);
  }

  unsubscribe(jobId: string, name: string): Promise<boolean> {
    return events.unsubscribe(this.#ctx, jobId, name);
  }

  unsubscribeAll(jobId: string): Promise<void> {
    return events.unsubscribeAll(this.#ctx, jobId);
  }

  raiseWorkflowEvent(data: { [key: string]: Json }): Promise<RaisedWorkflowEvent> {
    return events.raiseWorkflowEvent(this.#ctx, data);
  }

  takeEvent(jobId: string, names: readonly string[]): Promise<WorkflowEventRecord | null> {
    return events.takeEvent(this.#ctx, jobId, names);
  }

  cancelEventWait(jobId: string): Promise<boolean> {
    return events.cancelEventWait(this.#ctx, jobId);
  }
}
