// A TEST-ONLY driver: feeds wakes to the machine until the run ends, as the engine would, with a
// JSON round trip of the state between every advance. Child actions are JS functions; child
// workflows run recursively on the same World.
import type { Json } from '../../ast.js';
import type { Advance, ChildOutcome, CompiledWorkflow, JsonObject, Machine, Waiting, Wake } from '../../ports.js';
import { roundTrip, type World } from './memory-host.js';

/** An action: returns its result object, or throws (the child fails with the message). */
export type TestAction = (arg: JsonObject) => Json;

export interface DriveOptions {
  readonly machine: Machine;
  readonly world: World;
  readonly program: CompiledWorkflow;
  readonly args?: JsonObject;
  readonly actions?: { readonly [name: string]: TestAction };
  readonly workflows?: { readonly [name: string]: CompiledWorkflow };
  readonly depth?: number;
  readonly jobId?: string;
  /** Report children one per wake, last-started first (tests collection order). */
  readonly oneAtATime?: boolean;
  /** The wake for a lock wait; default: the timer when the wait has a deadline. */
  readonly onLockWait?: (waiting: Extract<Waiting, { kind: 'lock' }>, world: World) => Wake | null;
  /** Called with every waiting answer (to check states and waits). */
  readonly onWait?: (advance: Extract<Advance, { kind: 'waiting' }>) => void;
}

export interface DriveResult {
  readonly end: Exclude<Advance, { kind: 'waiting' }>;
  readonly advances: number;
  readonly waits: Waiting[];
}

/** Errors the driver raises for a run that waits for something no wake can bring. */
export class StuckError extends Error {}

export async function drive(options: DriveOptions): Promise<DriveResult> {
  const { machine, world, program } = options;
  const jobId = options.jobId ?? 'job-root';
  const host = world.hostFor(jobId);
  const context = { jobId, depth: options.depth ?? 0, args: options.args ?? {} };
  const waits: Waiting[] = [];
  let state: Json | null = null;
  let wake: Wake = { kind: 'start' };
  let queued: ChildOutcome[] = [];
  for (let advances = 1; ; advances++) {
    if (advances > 10_000) throw new StuckError('more than 10000 advances');
    const result = await machine.advance(program, state, wake, context, host);
    if (result.kind !== 'waiting') return { end: result, advances, waits };
    options.onWait?.(result);
    waits.push(result.waiting);
    state = roundTrip(result.state);
    const w = result.waiting;
    switch (w.kind) {
      case 'children': {
        for (const id of w.jobIds) {
          if (queued.some((q) => q.jobId === id)) continue;
          queued.push(await runChild(options, id));
        }
        const batch = options.oneAtATime ? queued.slice(-1) : queued;
        queued = options.oneAtATime ? queued.slice(0, -1) : [];
        wake = { kind: 'children', outcomes: batch };
        break;
      }
      case 'sleep':
        world.clock = Date.parse(w.until);
        wake = { kind: 'timer' };
        break;
      case 'event': {
        const at = world.queue.findIndex((e) => w.names.includes(e.name));
        if (at >= 0) {
          wake = { kind: 'event', event: world.queue.splice(at, 1)[0]! };
        } else if (w.until !== null) {
          world.clock = Date.parse(w.until);
          wake = { kind: 'timer' };
        } else {
          throw new StuckError(`waiting forever for ${w.names.join(', ')}`);
        }
        break;
      }
      case 'lock': {
        const next = options.onLockWait?.(w, world) ?? (w.until !== null ? { kind: 'timer' as const } : null);
        if (!next) throw new StuckError(`waiting forever for lock ${w.type} ${w.value}`);
        if (next.kind === 'timer' && w.until !== null) world.clock = Date.parse(w.until);
        wake = next;
        break;
      }
    }
  }
}

/** Runs one child to its end: an action function, or a child workflow recursively. */
async function runChild(options: DriveOptions, jobId: string): Promise<ChildOutcome> {
  const child = options.world.children.get(jobId);
  if (!child) throw new Error(`unknown child ${jobId}`);
  child.status = 'running';
  const action = options.actions?.[child.name];
  const flow = options.workflows?.[child.name];
  let outcome: ChildOutcome;
  if (action) {
    try {
      outcome = { jobId, succeeded: true, result: action(roundTrip(child.arg)) };
    } catch (err) {
      outcome = { jobId, succeeded: false, error: { class: 'normal', msg: err instanceof Error ? err.message : String(err) } };
    }
  } else if (flow) {
    const { end } = await drive({ ...options, program: flow, args: child.arg, jobId, depth: (options.depth ?? 0) + 1, onWait: undefined });
    outcome = end.kind === 'completed' ? { jobId, succeeded: true, result: end.output } : { jobId, succeeded: false, error: end.error };
  } else {
    throw new Error(`no action or workflow ${child.name} in the test`);
  }
  child.status = outcome.succeeded ? 'succeeded' : 'failed';
  return outcome;
}
