// The step machine: runs a compiled program from its persisted state until the run must wait or
// ends. Errors follow JobCenter's do_jobtaskerror: a non-fatal error goes to the instruction's
// static catch target with `e._error` set; otherwise (or when fatal) the run fails, its pending
// children are cancelled and its locks released.
import type { Json } from '../ast.js';
import {
  WorkflowError,
  type Advance,
  type CompiledWorkflow,
  type Evaluator,
  type Host,
  type JsonObject,
  type Machine,
  type RunContext,
  type TypeChecker,
  type Wake,
} from '../ports.js';
import { detach, resumeChildren, startChildren } from './exec-children.js';
import { scopesOf, type ExecContext, type Step } from './exec-context.js';
import { eventArrived, eventCommand, lock, lockResolved, sleep, unlock, waitForEvent } from './exec-waits.js';
import { checkParamsAt } from './io-check.js';
import { readProgram, type Instr, type Program } from './program.js';
import { readState, STATE_FORMAT, waitingOf, type RunState } from './state.js';

/** What the machine needs: the expression language and the declared-type checks. */
export interface MachineDeps {
  readonly evaluator: Evaluator;
  readonly types: TypeChecker;
}

/**
 * Creates the step machine. `advance` never reads the clock except through `host.now()` and uses
 * no randomness, so repeating a step from the same state and wake does the same thing.
 * `Advance.steps` is the run's total of instructions started, across all its advances.
 */
export function createMachine(deps: MachineDeps): Machine {
  return {
    async advance(compiled: CompiledWorkflow, stored: Json | null, wake: Wake, run: RunContext, host: Host): Promise<Advance> {
      const program = readProgram(compiled.code);
      if (stored === null) {
        if (wake.kind !== 'start') throw new Error(`a run without state can only start, not take a ${wake.kind} wake`);
        return begin(program, run, host, deps);
      }
      if (wake.kind === 'start') throw new Error('a run with state cannot start again');
      const state = readState(stored);
      const ctx: ExecContext = { program, state, host, run, ...deps };
      return drive(ctx, (instr) => resume(ctx, instr, wake));
    },
  };
}

/** The start: inputs, environment, depth; then the program from its first instruction. */
async function begin(program: Program, run: RunContext, host: Host, deps: MachineDeps): Promise<Advance> {
  let state: RunState;
  try {
    const a = checkParamsAt(program.in, run.args, deps.types, 'inargs', `arguments of ${program.unit}`);
    if (run.depth > program.maxDepth) throw new WorkflowError('fatal', `max_depth (${program.maxDepth}) exceeded: depth ${run.depth}`);
    // wfenv runs as an output map over empty variables: what it sets becomes the environment.
    const env = { a, e: {}, v: {}, t: {}, i: {}, o: {} };
    await deps.evaluator.assign(program.wfenv, env, 'omap');
    state = { format: STATE_FORMAT, pc: 0, a, e: env.v, v: {}, steps: 0, held: [], pending: null };
  } catch (err) {
    if (err instanceof WorkflowError) return { kind: 'failed', error: err.toJson(), steps: 0 };
    throw err;
  }
  const ctx: ExecContext = { program, state, host, run, ...deps };
  return drive(ctx, null);
}

/** What a wake does to the instruction the run waits in; null when the wake is not for it. */
async function resume(ctx: ExecContext, instr: Instr, wake: Exclude<Wake, { kind: 'start' }>): Promise<Step | null> {
  const pending = ctx.state.pending;
  if (pending === null) throw new Error('a waiting run has nothing pending');
  switch (pending.kind) {
    case 'children':
      return wake.kind === 'children' && instr.op === 'children' ? resumeChildren(ctx, instr, wake.outcomes) : null;
    case 'sleep':
      if (wake.kind !== 'timer' || instr.op !== 'sleep' || !due(ctx, pending.until)) return null;
      ctx.state.pending = null;
      return { kind: 'next', pc: instr.next };
    case 'event':
      if (instr.op !== 'wait-event') return null;
      if (wake.kind === 'event' && pending.names.includes(wake.event.name)) return eventArrived(ctx, instr, wake.event);
      return wake.kind === 'timer' && due(ctx, pending.until) ? eventArrived(ctx, instr, null) : null;
    case 'lock':
      if (instr.op !== 'lock') return null;
      if (wake.kind === 'lock-granted' && wake.type === pending.type && wake.value === pending.value) return lockResolved(ctx, instr, true);
      return wake.kind === 'timer' && due(ctx, pending.until) ? lockResolved(ctx, instr, false) : null;
  }
}

/**
 * Whether a wait's deadline has come by the host's clock. A timer that fires early (clock skew
 * between engine processes) is ignored rather than trusted: the run keeps waiting, unchanged.
 */
function due(ctx: ExecContext, until: string | null): boolean {
  return until !== null && ctx.host.now().getTime() >= Date.parse(until);
}

/** Starts one instruction (it has been counted against max_steps). */
async function execute(ctx: ExecContext, instr: Instr): Promise<Step> {
  const { evaluator } = ctx;
  switch (instr.op) {
    case 'eval':
      await evaluator.assign(instr.assignments, scopesOf(ctx), 'omap');
      return { kind: 'next', pc: instr.next };
    case 'branch': {
      const value = await evaluator.evaluate(instr.condition, scopesOf(ctx));
      return { kind: 'next', pc: evaluator.truthy(value) ? instr.then : instr.otherwise };
    }
    case 'switch': {
      const subject = caseText(await evaluator.evaluate(instr.subject, scopesOf(ctx)));
      const hit = instr.cases.find((c) => c.labels.includes(subject));
      return { kind: 'next', pc: hit ? hit.target : instr.otherwise };
    }
    case 'jump':
      return { kind: 'next', pc: instr.target };
    case 'assert': {
      if (evaluator.truthy(await evaluator.evaluate(instr.condition, scopesOf(ctx)))) return { kind: 'next', pc: instr.next };
      const message = await evaluator.evaluate(instr.message, scopesOf(ctx));
      throw new WorkflowError('normal', `assert failed: ${typeof message === 'string' ? message : JSON.stringify(message)}`, instr.pos);
    }
    case 'raise-error': {
      const message = await evaluator.evaluate(instr.message, scopesOf(ctx));
      throw new WorkflowError('normal', typeof message === 'string' ? message : JSON.stringify(message), instr.pos);
    }
    case 'children':
      return startChildren(ctx, instr);
    case 'detach':
      return detach(ctx, instr);
    case 'sleep':
      return sleep(ctx, instr);
    case 'wait-event':
      return waitForEvent(ctx, instr);
    case 'subscribe':
    case 'unsubscribe':
    case 'raise-event':
      return eventCommand(ctx, instr);
    case 'lock':
      return lock(ctx, instr);
    case 'unlock':
      return unlock(ctx, instr);
    case 'end':
      throw new Error('the end instruction is run by drive');
  }
}

/** `case` compares text, as JobCenter's does: a number or boolean is compared as it prints. */
function caseText(value: Json): string {
  if (typeof value === 'string') return value;
  if (value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Runs `first` (the resume of the instruction the run waits in; null at the start), then
 * instructions until one waits or the end is reached, routing errors to catch targets.
 */
async function drive(ctx: ExecContext, first: ((instr: Instr) => Promise<Step | null>) | null): Promise<Advance> {
  const { state, program } = ctx;
  let stepFn: ((instr: Instr) => Promise<Step | null>) | null = first;
  for (;;) {
    const instr = program.instrs[state.pc];
    if (!instr) throw new Error(`program ${program.unit} has no instruction ${state.pc}`);
    try {
      if (instr.op === 'end' && stepFn === null) return await finish(ctx);
      let step: Step | null;
      if (stepFn) {
        step = await stepFn(instr);
        // A wake not meant for what the run waits in (a late timer, a stray event) changes nothing.
        if (step === null) return waitingAt(state);
      } else {
        if (state.steps >= program.maxSteps) throw new WorkflowError('fatal', `max_steps (${program.maxSteps}) exceeded`, instr.pos);
        state.steps += 1;
        step = await execute(ctx, instr);
      }
      stepFn = null;
      if (step.kind === 'wait') return waitingAt(state);
      state.pc = step.pc;
    } catch (err) {
      if (!(err instanceof WorkflowError)) throw err;
      stepFn = null;
      if (err.errorClass !== 'fatal' && instr.catch !== null) {
        state.pending = null;
        state.e = { ...state.e, _error: err.toJson() };
        state.pc = instr.catch;
        continue;
      }
      return fail(ctx, err.toJson());
    }
  }
}

/** The end: `wfomap` into `o`, checked against `out`; locks released. */
async function finish(ctx: ExecContext): Promise<Advance> {
  const scopes = scopesOf(ctx);
  await ctx.evaluator.assign(ctx.program.wfomap, scopes, 'wfomap');
  const output = checkParamsAt(ctx.program.out, scopes.o, ctx.types, 'outargs', `output of ${ctx.program.unit}`);
  await release(ctx);
  return { kind: 'completed', output, steps: ctx.state.steps };
}

/** A failed run: children it still waits for are cancelled and its locks released. */
async function fail(ctx: ExecContext, error: JsonObject): Promise<Advance> {
  const pending = ctx.state.pending;
  if (pending?.kind === 'children') {
    const running = pending.children.map((c) => c.jobId).filter((id) => !(id in pending.outcomes));
    if (running.length > 0) await ctx.host.cancelChildren(running);
  }
  await release(ctx);
  return { kind: 'failed', error, steps: ctx.state.steps };
}

/** JobCenter releases every lock on job termination (doc/jcl.md "Locking"). */
async function release(ctx: ExecContext): Promise<void> {
  for (const l of ctx.state.held) await ctx.host.unlock(l.type, l.value);
  ctx.state.held = [];
}

/** The answer for a run that waits: its state to store and what it waits for. */
function waitingAt(state: RunState): Advance {
  if (state.pending === null) throw new Error('a waiting step left nothing pending');
  return { kind: 'waiting', state: state as unknown as Json, waiting: waitingOf(state.pending), steps: state.steps };
}
