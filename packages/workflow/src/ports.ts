// The seams between the workflow package's parts, fixed first so that each can be built and
// tested on its own: the expression language (Evaluator), the step machine (advance) and the
// host it runs in (Host: PostgreSQL in the engine, memory in unit tests).
import type { WorkflowEventRecord as WorkflowEvent, WorkflowLockAnswer as LockAnswer } from '@drover/core';
import type { Assignment, Expr, Json, Pos } from './ast.js';

/** A JSON object, as the variable scopes hold them. */
export type JsonObject = { [key: string]: Json };

/** The scopes an expression sees. Evaluation may change `i`, `t`, `v`, `o` (assignments). */
export interface Scopes {
  a: JsonObject;
  e: JsonObject;
  v: JsonObject;
  t: JsonObject;
  i: JsonObject;
  o: JsonObject;
}

/**
 * Which map an assignment list is: it sets the default scope of a left side without one, the
 * scopes a left side may name, and what `<name>` copies (JobCenter's IMAP/OMAP/WFOMAP):
 * - `imap`: default `i`, may set `i`/`t`; `<x>` is `i.x = v.x`;
 * - `omap` (also `eval`/`let` and `into:`/`collect:`): default `v`, may set `v`/`t`; `<x>` is `v.x = o.x`;
 * - `wfomap`: default `o`, may set `o`/`t`; `<x>` is `o.x = v.x`.
 */
export type MapKind = 'imap' | 'omap' | 'wfomap';

/**
 * A workflow error, as JobCenter shapes it: a class and a message. `fatal` cannot be caught by
 * `try`; `childerror` is a child's failure; the others (`normal`, `typeerror`, …) can be.
 * Inside `catch:` the error is `e._error` (`{ class, msg, … }`).
 */
export class WorkflowError extends Error {
  constructor(
    readonly errorClass: string,
    message: string,
    readonly pos?: Pos,
    readonly data?: JsonObject,
  ) {
    super(message);
    this.name = 'WorkflowError';
  }

  toJson(): JsonObject {
    return { class: this.errorClass, msg: this.message, ...(this.data ?? {}) };
  }
}

export interface Evaluator {
  /** The value of an expression; throws WorkflowError (class `normal`, or `fatal` for a sandbox limit). */
  evaluate(expr: Expr, scopes: Scopes): Promise<Json>;
  /** Runs an assignment list of the given kind over the scopes, in order. */
  assign(assignments: readonly Assignment[], scopes: Scopes, kind: MapKind): Promise<void>;
  /** JobCenter's truth: what `if`, `while`, `until` and `assert` test. */
  truthy(value: Json): boolean;
}

/** A declared type check: `number string boolean null array object json` or a named JSON Schema. */
export interface TypeChecker {
  /** Null when the value has the type; otherwise a message naming what was expected. */
  check(value: Json, type: string): string | null;
  /** Whether the type name is known (a basic type or a registered schema). */
  knows(type: string): boolean;
}

// ---------------------------------------------------------------------------------------------
// The step machine and its host

/** A child job the workflow waits for (or detached from), by the job id the host gave it. */
export interface ChildOutcome {
  readonly jobId: string;
  readonly succeeded: boolean;
  /** The child's result (its `out` object) when it succeeded. */
  readonly result?: Json;
  /** The child's error (`{ class, msg }` or the worker's error text) when it failed. */
  readonly error?: Json;
}

/**
 * An event as subscribers receive it (JobCenter's `{ name, event_id, when, data }`), and what
 * asking for a lock answers: one definition each, the store's port in @drover/core.
 */
export type { WorkflowEventRecord as WorkflowEvent, WorkflowLockAnswer as LockAnswer } from '@drover/core';

/**
 * What the step machine asks of the world while it advances a workflow. The engine implements it
 * on one PostgreSQL transaction, so every effect of a step commits with the step's new state or
 * not at all; unit tests implement it in memory.
 */
export interface Host {
  now(): Date;
  /** Creates a child job (an action's job, or a child workflow's); returns its job id. */
  createChild(request: {
    readonly name: string;
    readonly arg: JsonObject;
    /** A detached child's outcome is not reported back. */
    readonly detached: boolean;
    /** Locks with `inherit` that the child may use while the parent waits for it. */
    readonly inheritLocks: boolean;
  }): Promise<string>;
  /** Cancels children still running (the parent failed, or one of a split's children failed). */
  cancelChildren(jobIds: readonly string[]): Promise<void>;
  raiseEvent(name: string, data: JsonObject): Promise<void>;
  subscribe(name: string, mask: JsonObject): Promise<void>;
  unsubscribe(name: string): Promise<void>;
  /** Takes a lock, or records the wait (`wait`: false answers `busy` instead of waiting). */
  lock(type: string, value: string, options: { readonly inherit: boolean; readonly wait: boolean }): Promise<LockAnswer>;
  /** Releases a lock the job has; false when it had not (JobCenter: "tried to unlock not held lock"). */
  unlock(type: string, value: string): Promise<boolean>;
}

/** Why the engine is advancing a workflow now. */
export type Wake =
  | { readonly kind: 'start' }
  | { readonly kind: 'children'; readonly outcomes: readonly ChildOutcome[] }
  /** The run's `until` time has come (a sleep, an event wait's or a lock wait's timeout). */
  | { readonly kind: 'timer' }
  | { readonly kind: 'event'; readonly event: WorkflowEvent }
  | { readonly kind: 'lock-granted'; readonly type: string; readonly value: string };

/** What a workflow waits for between steps; the engine indexes runs by it. */
export type Waiting =
  | { readonly kind: 'children'; readonly jobIds: readonly string[] }
  | { readonly kind: 'sleep'; readonly until: string }
  | { readonly kind: 'event'; readonly names: readonly string[]; readonly until: string | null }
  | { readonly kind: 'lock'; readonly type: string; readonly value: string; readonly until: string | null };

/** The result of advancing a run until it waits, ends or fails. */
export type Advance =
  | { readonly kind: 'waiting'; readonly state: Json; readonly waiting: Waiting; readonly steps: number }
  | { readonly kind: 'completed'; readonly output: JsonObject; readonly steps: number }
  | { readonly kind: 'failed'; readonly error: JsonObject; readonly steps: number };

/** The run a step belongs to. */
export interface RunContext {
  readonly jobId: string;
  /** 0 for a workflow started by a client; a child workflow's is its parent's + 1. */
  readonly depth: number;
  /** The workflow job's arg (read at the start only). */
  readonly args: JsonObject;
}

/**
 * The step machine. `state` is null at the start and otherwise the JSON the previous call returned
 * (persisted by the engine in between, possibly by another process). Everything non-blocking runs
 * in memory; each call ends where the workflow must wait, or at its end. Deterministic given the
 * same state, wake and host answers, so a step repeated after a crash does the same thing.
 */
export interface Machine {
  advance(program: CompiledWorkflow, state: Json | null, wake: Wake, context: RunContext, host: Host): Promise<Advance>;
}

/** What the compiler stores for a workflow (its shape is the machine's own business). */
export interface CompiledWorkflow {
  readonly name: string;
  readonly version: number;
  /** The compiler's output: plain JSON. */
  readonly code: Json;
}

/** What the compiler may know about the names a unit calls, at load time. */
export interface Catalog {
  /** A loaded unit by name (its newest version under the tags asked for), or null. */
  lookup(name: string): CatalogEntry | null;
}

export interface CatalogEntry {
  readonly name: string;
  readonly kind: 'workflow' | 'action' | 'procedure' | 'interface';
  readonly in: readonly { readonly name: string; readonly type: string; readonly optional: boolean }[];
  readonly out: readonly { readonly name: string; readonly type: string; readonly optional: boolean }[];
}
