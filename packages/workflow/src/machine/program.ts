// The compiled form of a workflow: a flat list of instructions, each naming where control goes
// next and where a caught error goes (JobCenter's tasks with their next task and on-error task).
// Because every target is an index, the persisted state of a run needs only a program counter,
// the variables and what it waits for; the statement tree is never needed at run time.
import type { Assignment, Expr, Json, Pos } from '../ast.js';

/** Marks the code's shape so that a program stored by an older compiler is refused, not misread. */
export const PROGRAM_FORMAT = 'drover-jcl-program/1';

/** One declared input or output, as the runtime checks need it. */
export interface ParamSpec {
  readonly name: string;
  readonly type: string;
  readonly optional: boolean;
  /** An `in:` default; applied when the input is absent. */
  readonly default?: Json;
}

/** A callee's signature, stored with the caller so that run-time checks need no catalog. */
export interface CalleeSignature {
  readonly kind: 'workflow' | 'action' | 'procedure' | 'interface';
  readonly in: readonly ParamSpec[];
  readonly out: readonly ParamSpec[];
}

/**
 * One child-starting part of a `call`, `split`, `map` or interface call. `callee` names the unit
 * to start; an interface call instead picks it at run time from `destinations` by `selector`.
 */
export type ChildPart =
  | {
      readonly kind: 'one';
      readonly callee: string | null;
      readonly selector: Expr | null;
      readonly interfaceName: string | null;
      readonly destinations: readonly string[];
      readonly imap: readonly Assignment[];
      readonly omap: readonly Assignment[];
      readonly pos: Pos;
    }
  | {
      readonly kind: 'map';
      readonly callee: string;
      readonly using: Expr;
      readonly imap: readonly Assignment[];
      readonly collect: readonly Assignment[];
      readonly pos: Pos;
    };

/** Fields every instruction has: where it came from and where a non-fatal error goes. */
interface InstrCommon {
  readonly pos: Pos;
  /** Index of the first instruction of the enclosing `catch:` body, or null (the run fails). */
  readonly catch: number | null;
}

/** An instruction; `next` is the index to run after it when it does not jump. */
export type Instr = InstrCommon &
  (
    | { readonly op: 'eval'; readonly assignments: readonly Assignment[]; readonly next: number }
    /** `if`, `while`, `until`: `then` when the condition is true, else `otherwise`. */
    | { readonly op: 'branch'; readonly condition: Expr; readonly then: number; readonly otherwise: number }
    /** `case`: the first `when` whose labels hold the subject (compared as text), else `otherwise`. */
    | {
        readonly op: 'switch';
        readonly subject: Expr;
        readonly cases: readonly { readonly labels: readonly string[]; readonly target: number }[];
        readonly otherwise: number;
      }
    /** `goto`, and the joins the compiler needs (end of a branch, back edge of a loop). */
    | { readonly op: 'jump'; readonly target: number }
    | { readonly op: 'assert'; readonly condition: Expr; readonly message: Expr; readonly next: number }
    | { readonly op: 'raise-error'; readonly message: Expr }
    /** Starts children (one, or many for split and map), waits for all, then runs their maps. */
    | { readonly op: 'children'; readonly parts: readonly ChildPart[]; readonly next: number }
    | { readonly op: 'detach'; readonly callee: string; readonly imap: readonly Assignment[]; readonly next: number }
    | { readonly op: 'sleep'; readonly duration: Expr; readonly next: number }
    | {
        readonly op: 'wait-event';
        readonly assignments: readonly Assignment[];
        readonly omap: readonly Assignment[];
        readonly next: number;
      }
    | {
        readonly op: 'subscribe' | 'unsubscribe' | 'raise-event';
        readonly assignments: readonly Assignment[];
        readonly next: number;
      }
    /**
     * `lock` (value from `value`), `wait_for_lock` (value and wait mode from `assignments`), and
     * the non-manual `locks:` the compiler places first (a literal value).
     */
    | {
        readonly op: 'lock';
        readonly lockType: string;
        readonly inherit: boolean;
        readonly value: Expr | null;
        readonly assignments: readonly Assignment[] | null;
        readonly next: number;
      }
    | { readonly op: 'unlock'; readonly lockType: string; readonly value: Expr; readonly next: number }
    /** The end: `wfomap` into `o`, checked against `out`. `return` jumps here. */
    | { readonly op: 'end' }
  );

/** The whole compiled workflow, stored as `CompiledWorkflow.code`. */
export interface Program {
  readonly format: typeof PROGRAM_FORMAT;
  readonly unit: string;
  readonly in: readonly ParamSpec[];
  readonly out: readonly ParamSpec[];
  /** Computes the environment `e` at the start (as an output map: the results land in `v`). */
  readonly wfenv: readonly Assignment[];
  readonly wfomap: readonly Assignment[];
  /** True when some `locks:` line has `inherit`: children may borrow the locks while we wait. */
  readonly inheritLocks: boolean;
  readonly maxSteps: number;
  readonly maxDepth: number;
  readonly callees: { readonly [name: string]: CalleeSignature };
  readonly instrs: readonly Instr[];
}

/** Reads a stored program, refusing a shape this machine does not know. */
export function readProgram(code: Json): Program {
  if (code === null || typeof code !== 'object' || Array.isArray(code) || code.format !== PROGRAM_FORMAT) {
    throw new Error(`compiled workflow code is not a ${PROGRAM_FORMAT} program (recompile the unit)`);
  }
  // The compiler is the only writer of this JSON; the format tag is the check that matters.
  return code as unknown as Program;
}
