// Instructions that wait for time, events or locks, and their event/lock siblings. Timeouts follow
// JobCenter's do_timeout: an event wait that times out completes with a pseudo event named
// `timeout` (the output map then sees `o.event.name == "timeout"`), while a lock wait that times
// out raises an error of class `lock`.
import type { Json } from '../ast.js';
import { WorkflowError, type WorkflowEvent } from '../ports.js';
import { parseDuration } from '../expr/duration.js';
import { argumentsOf, objectArg, scopesOf, stringArg, untilAfter, type ExecContext, type InstrOf, type Step } from './exec-context.js';

/** One duration parser for the language (the evaluator's): errors name the statement. */
function durationMs(value: Json, what: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    if (error instanceof WorkflowError) throw new WorkflowError('normal', `${what}: ${error.message}`, error.pos);
    throw error;
  }
}

/** `sleep`: waits until the host's now plus the duration; the timer wake moves on. */
export async function sleep(ctx: ExecContext, instr: InstrOf<'sleep'>): Promise<Step> {
  const ms = durationMs(await ctx.evaluator.evaluate(instr.duration, scopesOf(ctx)), 'sleep');
  ctx.state.pending = { kind: 'sleep', until: untilAfter(ctx, ms) };
  return { kind: 'wait' };
}

/** `wait_for_event`: `events` (a name or a list of subscription names), optional `timeout`. */
export async function waitForEvent(ctx: ExecContext, instr: InstrOf<'wait-event'>): Promise<Step> {
  const args = await argumentsOf(ctx, instr.assignments);
  const events = args.events;
  const names = typeof events === 'string' ? [events] : events;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n): n is string => typeof n === 'string')) {
    throw new WorkflowError('normal', 'wait_for_event: events must be a subscription name or a non-empty list of them', instr.pos);
  }
  const timeout = args.timeout;
  const until = timeout === undefined || timeout === null ? null : untilAfter(ctx, durationMs(timeout, 'wait_for_event timeout'));
  ctx.state.pending = { kind: 'event', names, until };
  return { kind: 'wait' };
}

/** An event (or the timeout's pseudo event) reached the wait: `o.event` is it, then `into:`. */
export async function eventArrived(ctx: ExecContext, instr: InstrOf<'wait-event'>, event: WorkflowEvent | null): Promise<Step> {
  const o = {
    event: event
      ? { name: event.name, event_id: event.eventId, when: event.when, data: event.data }
      : { name: 'timeout', event_id: null, when: ctx.host.now().toISOString(), data: null },
  };
  ctx.state.pending = null;
  await ctx.evaluator.assign(instr.omap, scopesOf(ctx, { o }), 'omap');
  return { kind: 'next', pc: instr.next };
}

/**
 * `subscribe` (`name`, `mask`), `unsubscribe` (`name`), `raise_event` (`event` data, as JobCenter
 * takes it; an optional `name` labels the event for logs and the API, and matching is on the data).
 */
export async function eventCommand(ctx: ExecContext, instr: InstrOf<'subscribe' | 'unsubscribe' | 'raise-event'>): Promise<Step> {
  const args = await argumentsOf(ctx, instr.assignments);
  const what = instr.op.replace('-', '_');
  if (instr.op === 'raise-event') {
    const label = args.name === undefined || args.name === null ? '' : stringArg(args, 'name', what);
    await ctx.host.raiseEvent(label, objectArg(args, 'event', what));
    return { kind: 'next', pc: instr.next };
  }
  const name = stringArg(args, 'name', what);
  if (instr.op === 'subscribe') await ctx.host.subscribe(name, objectArg(args, 'mask', what));
  else if (instr.op === 'unsubscribe') await ctx.host.unsubscribe(name);
  return { kind: 'next', pc: instr.next };
}

function lockValue(value: Json | undefined, type: string): string {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  throw new WorkflowError('normal', `no lockvalue for locktype ${type}`);
}

/**
 * `lock`, `wait_for_lock` and the start locks. `wait` is `yes` (wait, the default), `no` (a busy
 * lock is an error) or a duration (wait that long, then error class `lock`).
 */
export async function lock(ctx: ExecContext, instr: InstrOf<'lock'>): Promise<Step> {
  let value: string;
  let wait = true;
  let until: string | null = null;
  if (instr.value) {
    value = lockValue(await ctx.evaluator.evaluate(instr.value, scopesOf(ctx)), instr.lockType);
  } else {
    const args = await argumentsOf(ctx, instr.assignments ?? []);
    value = lockValue(args.value, instr.lockType);
    const mode = args.wait;
    if (mode === 'no' || mode === false) wait = false;
    else if (mode !== undefined && mode !== 'yes' && mode !== true) until = untilAfter(ctx, durationMs(mode ?? null, 'wait_for_lock wait'));
  }
  // The host records the wait itself (and checks the lock-wait graph for a cycle) in the step's
  // transaction, so a waiting answer needs only the pending entry here.
  const answer = await ctx.host.lock(instr.lockType, value, { inherit: instr.inherit, wait });
  switch (answer.kind) {
    case 'acquired':
      ctx.state.held.push({ type: instr.lockType, value });
      return { kind: 'next', pc: instr.next };
    case 'waiting':
      ctx.state.pending = { kind: 'lock', type: instr.lockType, value, until };
      return { kind: 'wait' };
    case 'deadlock':
      // doc/jcl.md: "If a deadlock is detected a fatal error is raised."
      throw new WorkflowError('fatal', `deadlock on locktype ${instr.lockType} lockvalue ${value}: ${answer.cycle.join(' -> ')}`, instr.pos);
    case 'busy':
      throw new WorkflowError('normal', `failed to get locktype ${instr.lockType} lockvalue ${value} (held by ${answer.holder})`, instr.pos);
  }
}

/** The awaited lock was granted (true) or the wait timed out (false). */
export function lockResolved(ctx: ExecContext, instr: InstrOf<'lock'>, granted: boolean): Step {
  const pending = ctx.state.pending;
  if (pending?.kind !== 'lock') throw new Error('lockResolved without a pending lock');
  ctx.state.pending = null;
  if (!granted) throw new WorkflowError('lock', `locktype ${pending.type} lockvalue ${pending.value} timeout for job ${ctx.run.jobId}`, instr.pos);
  ctx.state.held.push({ type: pending.type, value: pending.value });
  return { kind: 'next', pc: instr.next };
}

/** `unlock`: releases the lock in the host and forgets it, so the end does not release it again. */
export async function unlock(ctx: ExecContext, instr: InstrOf<'unlock'>): Promise<Step> {
  const value = lockValue(await ctx.evaluator.evaluate(instr.value, scopesOf(ctx)), instr.lockType);
  if (!(await ctx.host.unlock(instr.lockType, value))) {
    throw new WorkflowError('normal', `tried to unlock not held lock ${instr.lockType} ${value}`, instr.pos);
  }
  ctx.state.held = ctx.state.held.filter((l) => l.type !== instr.lockType || l.value !== value);
  return { kind: 'next', pc: instr.next };
}
