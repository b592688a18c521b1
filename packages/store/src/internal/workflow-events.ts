/**
 * Workflow events (JobCenter's `subscribe` / `raise_event` / `wait_for_event`): a job subscribes
 * under a name with a mask; a raised event whose data contains the mask (jsonb `@>`) is delivered
 * to the subscription, waking its job if that job waits for the name, queued for it otherwise,
 * so an event raised before the wait starts is not lost.
 *
 * Concurrency. A raise and a wait starting on the same subscription must not miss each other
 * (the event queued while the wait, not seeing it, starts). Both lock the subscription rows first,
 * in (job, name) order, in a statement of their own: the raise FOR SHARE (raises do not block each
 * other), the wait FOR UPDATE. Whichever commits first is seen by the other's next statement,
 * which READ COMMITTED runs on a fresh snapshot: the wait takes the queued event, or the raise
 * sees the wait and wakes it. Two raises waking one waiting job: the wait row is deleted by the
 * first, and the second, finding it gone, queues its event instead: one wakeup per wait.
 */
import {
  ValidationError,
  validateMask,
  validateSubscriptionName,
  validateSubscriptionNames,
  validateWorkflowEventData,
  type Json,
  type RaisedWorkflowEvent,
  type WorkflowEventRecord,
} from '@drover/core';
import { checkId } from './checks.js';
import type { StoreContext } from './context.js';
import type { SqlExecutor } from './executor.js';
import { SQL } from './statements.js';

type JsonObject = { [key: string]: Json };

/** See WorkflowEventStore.subscribe in @drover/core. */
export async function subscribe(ctx: StoreContext, jobId: string, name: string, mask: JsonObject): Promise<void> {
  checkId(jobId, 'jobId');
  const checked = validateSubscriptionName(name);
  const maskJson = validateMask(mask);
  await ctx.db.query(SQL.workflowSubscribe, [jobId, checked, maskJson, ctx.now()]);
}

/** See WorkflowEventStore.unsubscribe in @drover/core. */
export async function unsubscribe(ctx: StoreContext, jobId: string, name: string): Promise<boolean> {
  checkId(jobId, 'jobId');
  const checked = validateSubscriptionName(name);
  return (await ctx.db.query(SQL.workflowUnsubscribe, [jobId, checked])).length > 0;
}

/** See WorkflowEventStore.unsubscribeAll in @drover/core. */
export async function unsubscribeAll(ctx: StoreContext, jobId: string): Promise<void> {
  checkId(jobId, 'jobId');
  await ctx.db.transaction(async (tx) => {
    await tx.query(SQL.workflowEventCancelWait, [jobId]);
    await tx.query(SQL.workflowUnsubscribe, [jobId, null]);
  });
}

/**
 * Delivers an event's data (already checked, as JSON text) on a transaction: the matched
 * subscriptions are locked, then woken or queued. Shared by raiseWorkflowEvent and the API's
 * event raise, which delivers inside its own transaction.
 */
export async function deliver(tx: SqlExecutor, ctx: StoreContext, dataJson: string): Promise<RaisedWorkflowEvent> {
  const matched = await tx.query<{ job_id: string; name: string }>(SQL.workflowEventMatch, [dataJson]);
  // Most API events concern no workflow: they cost this one indexed read, and no event id.
  if (matched.length === 0) return { eventId: null, woken: 0, queued: 0 };
  const jobIds = matched.map((m) => m.job_id);
  const names = matched.map((m) => m.name);
  const [row] = await tx.query<{ event_id: string; woken: number; queued: number }>(SQL.workflowEventDeliver, [dataJson, jobIds, names, ctx.now()]);
  if (!row) throw new Error('workflow-event-deliver.sql answered no row');
  return { eventId: row.event_id, woken: row.woken, queued: row.queued };
}

/** See WorkflowEventStore.raiseWorkflowEvent in @drover/core. */
export async function raiseWorkflowEvent(ctx: StoreContext, data: JsonObject): Promise<RaisedWorkflowEvent> {
  const dataJson = validateWorkflowEventData(data);
  return ctx.db.transaction((tx) => deliver(tx, ctx, dataJson));
}

/** See WorkflowEventStore.takeEvent in @drover/core. */
export async function takeEvent(ctx: StoreContext, jobId: string, names: readonly string[]): Promise<WorkflowEventRecord | null> {
  checkId(jobId, 'jobId');
  const list = validateSubscriptionNames(names);
  return ctx.db.transaction(async (tx) => {
    const own = await tx.query<{ name: string }>(SQL.workflowEventOwn, [jobId, list]);
    // Waiting for a name never subscribed would wait for nothing until the timeout (JobCenter
    // lets it): refused instead, naming the name, since it is the workflow's mistake.
    const missing = list.find((n) => !own.some((o) => o.name === n));
    if (missing !== undefined) throw new ValidationError('names', `job ${jobId} has no subscription named "${missing}"`);
    const [taken] = await tx.query<{ name: string; event_id: string; raised_at: Date; data: JsonObject }>(SQL.workflowEventTake, [jobId, list, ctx.now()]);
    return taken ? { name: taken.name, eventId: taken.event_id, when: taken.raised_at.toISOString(), data: taken.data } : null;
  });
}

/** See WorkflowEventStore.cancelEventWait in @drover/core. */
export async function cancelEventWait(ctx: StoreContext, jobId: string): Promise<boolean> {
  checkId(jobId, 'jobId');
  return (await ctx.db.query(SQL.workflowEventCancelWait, [jobId])).length > 0;
}
