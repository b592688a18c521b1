/**
 * One step of one run, inside the transaction that locked it: turn the run's queued wake-ups into
 * the machine's wakes, advance the machine through them, and write what it decided (the new
 * state and what it waits for, the children it made, the log, or the workflow job's end). Every
 * write goes through the step's transaction, so the step commits whole or not at all.
 */
import { isRetryableInfrastructureError, ValidationError, type Clock, type Json, type WorkflowRun, type WorkflowStepTx, type WorkflowWakeup } from '@drover/core';
import { WorkflowError, type Advance, type ChildOutcome, type CompiledWorkflow, type Host, type JsonObject, type Machine, type Wake, type Waiting, type WorkflowEvent } from '../ports.js';
import { createStepHost, type HostExtension } from './host.js';

/** What a step did, for the engine's counters and its tests. */
export type StepOutcome = 'waiting' | 'completed' | 'failed' | 'cancelled' | 'idle';

/** What {@link runStep} needs besides the run. */
export interface StepDeps {
  readonly machine: Machine;
  readonly clock: Clock;
  readonly extendHost?: HostExtension;
}

/**
 * Fails a claimed workflow job for which no stored version fits the tag it asked for (or, without
 * one, for which every version is tagged): a `fatal` workflow error naming the tag, no run created.
 */
export async function failWithoutVersion(tx: WorkflowStepTx, job: { readonly id: string; readonly grabToken: string }, name: string, tag: string | null): Promise<StepOutcome> {
  const msg = tag === null
    ? `workflow ${name} has no default version (every stored version carries tags); ask for one of its tags`
    : `workflow ${name} has no version tagged "${tag}" and no default version (one without tags)`;
  await tx.logStep(job.id, 'start', { error: msg });
  await tx.finishRun(job.id, job.grabToken, { kind: 'failed', error: JSON.stringify({ class: 'fatal', msg }) });
  return 'failed';
}

/**
 * Advances `run` through its wake-ups (or through `start` for a new run) on `tx`. A machine that
 * throws something other than a WorkflowError or a database error has a bug; the workflow then
 * fails with a `fatal` error rather than being retried for ever.
 */
export async function runStep(deps: StepDeps, tx: WorkflowStepTx, run: WorkflowRun, wakeups: readonly WorkflowWakeup[]): Promise<StepOutcome> {
  if (run.grabToken === null || wakeups.some((w) => w.kind === 'cancel')) {
    // The workflow job was cancelled (or is otherwise gone): its children go with it.
    await tx.cancelJobs(await tx.liveChildren(run.jobId));
    await releaseRuntime(tx, run.jobId);
    await tx.logStep(run.jobId, 'cancelled', null);
    await tx.deleteRun(run.jobId);
    return 'cancelled';
  }
  const program = await tx.program(run.unitId);
  if (!program) {
    await end(tx, run, run.grabToken, { kind: 'failed', error: { class: 'fatal', msg: `workflow unit ${run.unitId} is not stored` }, steps: run.steps });
    return 'failed';
  }
  const compiled: CompiledWorkflow = { name: program.name, version: program.version, code: program.compiled };
  const wakes = wakesFor(run, wakeups, deps.clock.now());
  if (wakes.length === 0) return 'idle';

  const host: Host = createStepHost(tx, run, deps.clock, deps.extendHost);
  const context = { jobId: run.jobId, depth: run.depth, args: isObject(run.arg) ? run.arg : {} };
  let state: Json | null = run.state;
  let last: Advance | null = null;
  for (let i = 0; i < wakes.length; i++) {
    const wake = wakes[i]!;
    // A wait's timeout races the grant or event that would end it: only a wait still on record
    // times out; otherwise the winner's wake-up is queued and the next step delivers it.
    if (wake.kind === 'timer' && !(await timeoutStands(tx, run))) return 'idle';
    last = await advance(deps.machine, compiled, state, wake, context, host, last?.steps ?? run.steps);
    await tx.logStep(run.jobId, wake.kind, logDetail(wake, last));
    if (last.kind !== 'waiting') break;
    state = last.state;
    if (last.waiting.kind === 'event') {
      // An event that matched a subscription before the wait began is queued there: it ends the
      // wait at once, in this step. Without one, takeEvent records the wait for the next raise.
      const queued = await takeEvent(tx, run.jobId, last.waiting.names);
      if (queued.kind === 'failed') {
        last = { kind: 'failed', error: queued.error, steps: last.steps };
        break;
      }
      if (queued.event) wakes.push({ kind: 'event', event: queued.event });
    }
  }
  if (!last) return 'idle';
  if (last.kind === 'waiting') {
    await tx.saveRun(run.jobId, { state: last.state, waiting: last.waiting as unknown as Json, wakeAt: wakeAtOf(last.waiting), steps: last.steps });
    return 'waiting';
  }
  return end(tx, run, run.grabToken, last);
}

/** The machine's answer, with a machine bug turned into the workflow's fatal error. */
async function advance(machine: Machine, program: CompiledWorkflow, state: Json | null, wake: Wake, context: { jobId: string; depth: number; args: JsonObject }, host: Host, steps: number): Promise<Advance> {
  try {
    return await machine.advance(program, state, wake, context, host);
  } catch (err) {
    // A database error (the connection lost, a statement refused) rolls the whole step back, to
    // be taken again: it says nothing about the workflow.
    if (isRetryableInfrastructureError(err) || typeof (err as { code?: unknown }).code === 'string') throw err;
    const error = err instanceof WorkflowError ? err.toJson() : { class: 'fatal', msg: `the step machine failed: ${err instanceof Error ? err.message : String(err)}` };
    return { kind: 'failed', error, steps };
  }
}

/** Ends the workflow job (completed with its output, or failed for good), its children cancelled. */
async function end(tx: WorkflowStepTx, run: WorkflowRun, grabToken: string, last: Exclude<Advance, { kind: 'waiting' }>): Promise<StepOutcome> {
  // Children still running are of no use to anyone once their workflow has ended, nor are its
  // locks and subscriptions.
  await tx.cancelJobs(await tx.liveChildren(run.jobId));
  await releaseRuntime(tx, run.jobId);
  if (last.kind === 'completed') {
    await tx.finishRun(run.jobId, grabToken, { kind: 'completed', output: last.output });
    return 'completed';
  }
  await tx.finishRun(run.jobId, grabToken, { kind: 'failed', error: JSON.stringify(last.error) });
  return 'failed';
}

/** A job's locks, lock wait, subscriptions and event wait end with it (JobCenter's do_cleanup_on_finish). */
async function releaseRuntime(tx: WorkflowStepTx, jobId: string): Promise<void> {
  await tx.runtime.releaseAll(jobId);
  await tx.runtime.cancelEventWait(jobId);
  await tx.runtime.unsubscribeAll(jobId);
}

/** Whether the run's wait is still on record, now ended by its timeout (false: a grant or event won). */
async function timeoutStands(tx: WorkflowStepTx, run: WorkflowRun): Promise<boolean> {
  const waiting = run.waiting as Waiting | null;
  if (waiting?.kind === 'lock') return tx.runtime.cancelLockWait(run.jobId);
  if (waiting?.kind === 'event') return tx.runtime.cancelEventWait(run.jobId);
  return true;
}

/** The queued event that ends a wait at once, or none (the wait is then recorded). */
async function takeEvent(tx: WorkflowStepTx, jobId: string, names: readonly string[]): Promise<{ kind: 'ok'; event: WorkflowEvent | null } | { kind: 'failed'; error: JsonObject }> {
  try {
    return { kind: 'ok', event: await tx.runtime.takeEvent(jobId, names) };
  } catch (err) {
    // Waiting for a name the workflow never subscribed to would wait for ever.
    if (err instanceof ValidationError) return { kind: 'failed', error: { class: 'normal', msg: `wait_for_event: ${err.message}` } };
    throw err;
  }
}

/**
 * The machine's wakes for this step, in order: a new run starts; queued outcomes of the children
 * it waits for come as one wake; events and granted locks each as their own; and the timer when
 * its time has come and nothing else woke the run. Wake-ups it no longer waits for (a child it
 * cancelled, a late duplicate) are dropped.
 */
export function wakesFor(run: WorkflowRun, wakeups: readonly WorkflowWakeup[], now: Date): Wake[] {
  if (run.state === null) return [{ kind: 'start' }];
  const waiting = run.waiting as Waiting | null;
  const wakes: Wake[] = [];
  const awaited = waiting?.kind === 'children' ? new Set(waiting.jobIds) : new Set<string>();
  const outcomes: ChildOutcome[] = [];
  for (const w of wakeups) {
    const payload = isObject(w.payload) ? w.payload : {};
    if (w.kind === 'child' && w.childId !== null && awaited.has(w.childId)) {
      awaited.delete(w.childId);
      outcomes.push(payload.succeeded === true
        ? { jobId: w.childId, succeeded: true, result: payload.result ?? null }
        : { jobId: w.childId, succeeded: false, error: payload.error ?? null });
    } else if (w.kind === 'event' && waiting?.kind === 'event' && typeof payload.name === 'string') {
      // 0013's delivery: the payload is the event itself ({ name, eventId, when, data }).
      wakes.push({ kind: 'event', event: payload as unknown as WorkflowEvent });
    } else if (w.kind === 'lock' && waiting?.kind === 'lock' && typeof payload.type === 'string' && typeof payload.value === 'string') {
      wakes.push({ kind: 'lock-granted', type: payload.type, value: payload.value });
    }
  }
  if (outcomes.length > 0) wakes.unshift({ kind: 'children', outcomes });
  if (wakes.length === 0 && run.wakeAt !== null && run.wakeAt.getTime() <= now.getTime()) wakes.push({ kind: 'timer' });
  return wakes;
}

/** When the engine must step a waiting run by itself: a sleep's end, a wait's timeout. */
export function wakeAtOf(waiting: Waiting): Date | null {
  if (waiting.kind === 'children') return null;
  return waiting.until === null ? null : new Date(waiting.until);
}

function logDetail(wake: Wake, result: Advance): Json {
  const detail: JsonObject = { result: result.kind, steps: result.steps };
  if (wake.kind === 'children') detail.children = wake.outcomes.map((o) => ({ jobId: o.jobId, succeeded: o.succeeded }));
  if (result.kind === 'waiting') detail.waiting = result.waiting as unknown as Json;
  if (result.kind === 'failed') detail.error = result.error;
  return detail;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
