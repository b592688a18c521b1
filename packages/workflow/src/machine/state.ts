// The persisted state of a run between advances: a program counter, the scopes that outlive one
// instruction (a, e, v), the step count, the locks held and what the run waits for. It is plain
// JSON; the engine stores it and hands it back, possibly to another process.
import type { Json } from '../ast.js';
import type { JsonObject, Waiting } from '../ports.js';

/** Marks a state this machine wrote; anything else handed back is refused rather than guessed at. */
export const STATE_FORMAT = 'drover-jcl-state/1';

/** A child the run waits for: its job, which part of the instruction started it, and its callee. */
export interface PendingChild {
  readonly jobId: string;
  readonly part: number;
  readonly callee: string;
}

/** A finished child's outcome, as collected so far (keyed by job id in `Pending`). */
export interface StoredOutcome {
  readonly succeeded: boolean;
  readonly result?: Json;
  readonly error?: Json;
}

/** What a run waits for; exactly one thing at a time, as a JobCenter job is in one task. */
export type Pending =
  | { readonly kind: 'children'; readonly children: readonly PendingChild[]; readonly outcomes: { readonly [jobId: string]: StoredOutcome } }
  | { readonly kind: 'sleep'; readonly until: string }
  | { readonly kind: 'event'; readonly names: readonly string[]; readonly until: string | null }
  | { readonly kind: 'lock'; readonly type: string; readonly value: string; readonly until: string | null };

/** A lock the run holds (released when it ends). */
export interface HeldLock {
  readonly type: string;
  readonly value: string;
}

/** The whole persisted state of a run (the engine stores it as JSON between advances). */
export interface RunState {
  readonly format: typeof STATE_FORMAT;
  /** The instruction being run or waited in. */
  pc: number;
  /** Arguments: fixed at the start. */
  readonly a: JsonObject;
  /** Environment: from wfenv; `_error` is added when a catch body runs. */
  e: JsonObject;
  /** Variables: what eval and output maps write. `t`, `i` and `o` live for one instruction only. */
  v: JsonObject;
  /** Instructions started since the run began (max_steps counts these). */
  steps: number;
  held: HeldLock[];
  pending: Pending | null;
}

/** Reads a state this machine wrote, as a private copy (the caller's object is never changed). */
export function readState(state: Json): RunState {
  if (state === null || typeof state !== 'object' || Array.isArray(state) || state.format !== STATE_FORMAT) {
    throw new Error(`workflow state is not a ${STATE_FORMAT} state`);
  }
  return structuredClone(state) as unknown as RunState;
}

/** What the engine indexes a waiting run by, derived from what is pending. */
export function waitingOf(pending: Pending): Waiting {
  switch (pending.kind) {
    case 'children':
      return { kind: 'children', jobIds: pending.children.map((c) => c.jobId).filter((id) => !(id in pending.outcomes)) };
    case 'sleep':
      return { kind: 'sleep', until: pending.until };
    case 'event':
      return { kind: 'event', names: pending.names, until: pending.until };
    case 'lock':
      return { kind: 'lock', type: pending.type, value: pending.value, until: pending.until };
  }
}
