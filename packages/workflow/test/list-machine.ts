/**
 * A test-only step machine, standing in for the real one: its program is a JSON list of
 * operations, run in order with a program counter in its state. `{ call }` creates a child with
 * `{ value }` and waits for it (its result becomes the value), `{ sleep }` waits that many ms,
 * `{ fail }` fails, and the end (or `{ complete: true }`) completes with `{ value }`. The value
 * starts as the workflow's `arg.value`. Hooks let a test act inside a step (e.g. kill its
 * connection) and count the machine's calls.
 */
import type { Json } from '@drover/core';
import type { Advance, Host, Machine, RunContext, Wake } from '../src/index.js';

/** One operation of a list program. */
export type ListOp = { call: string } | { sleep: number } | { fail: string } | { complete: true };

interface ListState {
  pc: number;
  value: Json;
  child: string | null;
  steps: number;
}

/** What a test may hook into. */
export interface ListMachineHooks {
  /** Called at the start of each advance, before anything is done. */
  onAdvance?: (wake: Wake, context: RunContext, state: ListState | null) => void;
  /** Called after each child is created, inside the step's transaction. */
  afterCreateChild?: (childId: string, context: RunContext) => Promise<void>;
}

/** The list machine, with its call counter. */
export function createListMachine(hooks: ListMachineHooks = {}): Machine & { calls: number } {
  const machine = {
    calls: 0,
    async advance(program: { code: Json }, given: Json | null, wake: Wake, context: RunContext, host: Host): Promise<Advance> {
      machine.calls++;
      const ops = program.code as ListOp[];
      const prior = given as ListState | null;
      hooks.onAdvance?.(wake, context, prior);
      const state: ListState = prior ? { ...prior } : { pc: 0, value: context.args.value ?? null, child: null, steps: 0 };
      if (wake.kind === 'children') {
        const outcome = wake.outcomes.find((o) => o.jobId === state.child);
        if (!outcome) return { kind: 'waiting', state: state as unknown as Json, waiting: { kind: 'children', jobIds: [state.child!] }, steps: state.steps };
        if (!outcome.succeeded) return { kind: 'failed', error: { class: 'childerror', msg: JSON.stringify(outcome.error ?? null) }, steps: state.steps };
        state.value = outcome.result ?? null;
        state.child = null;
        state.pc++;
      } else if (wake.kind === 'timer') {
        state.pc++;
      }
      for (;;) {
        const op = ops[state.pc];
        state.steps++;
        if (op === undefined || 'complete' in op) return { kind: 'completed', output: { value: state.value }, steps: state.steps };
        if ('fail' in op) return { kind: 'failed', error: { class: 'normal', msg: op.fail }, steps: state.steps };
        if ('sleep' in op) {
          const until = new Date(host.now().getTime() + op.sleep).toISOString();
          return { kind: 'waiting', state: state as unknown as Json, waiting: { kind: 'sleep', until }, steps: state.steps };
        }
        const id = await host.createChild({ name: op.call, arg: { value: state.value }, detached: false, inheritLocks: false });
        await hooks.afterCreateChild?.(id, context);
        state.child = id;
        return { kind: 'waiting', state: state as unknown as Json, waiting: { kind: 'children', jobIds: [id] }, steps: state.steps };
      }
    },
  };
  return machine;
}
