/**
 * The workflow engine's port on the job store. A workflow is an ordinary job whose funcname names
 * a loaded workflow; its run (program state, what it waits for) is a row beside the job, and each
 * step of it runs in one transaction ({@link WorkflowStepTx}) with every effect of the step, so a
 * step commits whole or not at all, and two engines never step one run at once.
 */
import { ValidationError } from './errors.js';
import type { Json } from './job.js';
import type { WorkflowEventStore, WorkflowLockStore } from './workflow-ports.js';

/** The kinds of stored unit (JobCenter's JCL). */
export type WorkflowUnitKind = 'workflow' | 'action' | 'procedure' | 'interface';

/** A unit to store: the compiler's output. */
export interface NewWorkflowUnit {
  readonly name: string;
  readonly kind: WorkflowUnitKind;
  readonly tags?: readonly string[];
  readonly source: string;
  /** The syntax tree. */
  readonly unit: Json;
  /** The step machine's program: required for a workflow, null for other kinds. */
  readonly compiled: Json | null;
  /**
   * What other units compile against: the unit's in and out after `interface NAME:` is resolved
   * (the loader's `LoadedUnit.signature`). Kept so a later load checks its calls without the
   * stored unit's interface at hand; null or absent for a unit saved without one.
   */
  readonly signature?: Json | null;
}

/** A named JSON Schema: a type `in:`/`out:`/`env:` lines may name besides the basic ones. */
export interface NamedJsonSchema {
  readonly name: string;
  readonly schema: Json;
}

/** A stored unit's identity: each load of a name is a new version. */
export interface WorkflowUnitRef {
  readonly id: string;
  readonly name: string;
  readonly kind: WorkflowUnitKind;
  readonly version: number;
}

/** The newest stored version of a name, as loading and the operators' views read it. */
export interface StoredWorkflowUnit extends WorkflowUnitRef {
  /** The version tags it was loaded with; empty for a default version. */
  readonly tags: readonly string[];
  /** The name's newest version, whatever its tags: above `version` when a newer one is tagged otherwise. */
  readonly latestVersion: number;
  /** The signature saved with it; null for a unit saved without one (before migration 0014). */
  readonly signature: Json | null;
  readonly source: string;
  /** When this version was saved. */
  readonly loadedAt: Date;
}

/** A unit as lists show it: the stored version without its source and signature. */
export function listedWorkflowUnit({ id, name, kind, version, tags, latestVersion, loadedAt }: StoredWorkflowUnit): Omit<StoredWorkflowUnit, 'signature' | 'source'> {
  return { id, name, kind, version, tags, latestVersion, loadedAt };
}

/**
 * Loading code: what `drover workflows load|list|show` and `POST /workflows` do with the stored
 * units. Apart from {@link WorkflowRunStore}, which steps runs: a caller that loads units never
 * steps a run, and the reverse.
 */
export interface WorkflowUnitStore {
  /**
   * Stores the named JSON Schemas (each replacing the schema of its name), then the units in order,
   * each as the next version of its name, in one transaction: all of them or, when one is refused
   * (bad input names the field), none. Whether a schema compiles is the caller's check.
   */
  saveWorkflowUnits(units: readonly NewWorkflowUnit[], schemas?: readonly NamedJsonSchema[]): Promise<WorkflowUnitRef[]>;
  /**
   * One version of every stored name, of every kind, by name; `source` included: the one a job
   * asking for `tag` runs (the newest carrying it, else the newest default, untagged, version) and,
   * for a name that has neither, its newest version.
   */
  listWorkflowUnits(tag?: string | null): Promise<StoredWorkflowUnit[]>;
  /** One version of one name, picked as listWorkflowUnits picks it, or null. */
  workflowUnit(name: string, tag?: string | null): Promise<StoredWorkflowUnit | null>;
}

/** A stored workflow's program, as a run names it. */
export interface WorkflowProgram {
  readonly unitId: string;
  readonly name: string;
  readonly version: number;
  readonly compiled: Json;
}

/** A run as a step sees it, locked for the step's transaction. */
export interface WorkflowRun {
  readonly jobId: string;
  readonly unitId: string;
  readonly depth: number;
  readonly parentJobId: string | null;
  /** The machine's state after the last step (null before the first). */
  readonly state: Json | null;
  readonly waiting: Json | null;
  readonly wakeAt: Date | null;
  readonly steps: number;
  /** The workflow job's grab token; null when the job is no longer live (it was cancelled). */
  readonly grabToken: string | null;
  /** The workflow job's arg. */
  readonly arg: Json;
}

/** Why a run must be stepped: a queued wake-up, in the order it was appended. */
export interface WorkflowWakeup {
  readonly id: string;
  readonly kind: 'child' | 'event' | 'lock' | 'cancel' | 'start';
  readonly childId: string | null;
  readonly payload: Json;
}

/** What a step writes back to its run when the workflow goes on waiting. */
export interface WorkflowRunUpdate {
  readonly state: Json;
  readonly waiting: Json;
  /** When the engine must step the run even if nothing else wakes it (a sleep, a wait's timeout). */
  readonly wakeAt: Date | null;
  readonly steps: number;
}

/** The workflow job's end. */
export type WorkflowEnd =
  | { readonly kind: 'completed'; readonly output: Json }
  /** `error` is kept as the job's error text (the workflow error's JSON). */
  | { readonly kind: 'failed'; readonly error: string };

/**
 * One step's transaction. Every method runs on it; nothing is visible to others before the step
 * commits, and a step that throws leaves nothing behind (not even the children it created).
 */
export interface WorkflowStepTx {
  /** The workflow's locks and events, on this step's transaction (their effects commit with the step). */
  readonly runtime: WorkflowLockStore & WorkflowEventStore;
  /** A job's ancestors, parent first (whose `inherit` locks it may borrow). */
  ancestors(jobId: string): Promise<string[]>;
  /** A stored workflow's program by unit id, read on the step's transaction (an embedded store has one session). */
  program(unitId: string): Promise<WorkflowProgram | null>;
  /**
   * Creates a child job of `parentId` (an ordinary job, with the function's defaults: its retries
   * are the store's default max retries, or the worker's per-function override), or an unparented
   * one for a detached child. A child that is a workflow asks for the version tag the job
   * `tagFrom` asked for, if any (the running workflow: a tagged run's children stay on the tagged
   * versions where there are some). Returns its id.
   */
  insertChild(parentId: string | null, job: { readonly funcname: string; readonly arg: Json }, tagFrom?: string): Promise<string>;
  /** Cancels those of the jobs still live (their parents' runs hear of it as 'child' wake-ups). */
  cancelJobs(ids: readonly string[]): Promise<string[]>;
  /** The live children of a workflow job. */
  liveChildren(parentId: string): Promise<string[]>;
  /** Writes the run's new state. */
  saveRun(jobId: string, update: WorkflowRunUpdate): Promise<void>;
  /** Appends a row to the run's step log (the job view shows it). */
  logStep(jobId: string, kind: string, detail: Json): Promise<void>;
  /**
   * Finishes the workflow job through the ordinary completion or permanent-failure statement,
   * fenced by its grab token; false when the token no longer holds it. Deletes the run.
   */
  finishRun(jobId: string, grabToken: string, end: WorkflowEnd): Promise<boolean>;
  /** Deletes the run and its queued wake-ups (the job was cancelled, or finished elsewhere). */
  deleteRun(jobId: string): Promise<void>;
}

/** What a workflow engine does to the store: the `WorkflowRunStore` role port. */
export interface WorkflowRunStore {
  /** Stores a unit as the next version of its name. */
  saveWorkflowUnit(unit: NewWorkflowUnit): Promise<WorkflowUnitRef>;
  /** The newest version of every stored workflow (the queues an engine consumes). */
  workflowUnits(): Promise<WorkflowUnitRef[]>;
  /** A stored workflow's program by unit id, or null. */
  workflowProgram(unitId: string): Promise<WorkflowProgram | null>;
  /**
   * Starts a claimed workflow job: in one transaction fenced by its grab token, picks the version
   * of workflow `name` it runs (the newest carrying the tag the job asked for, else the newest
   * default version, one without tags), creates its run on that unit, takes the job off lease
   * expiry (grabbed_until 'infinity') and calls `fn` with the new run. When no version fits,
   * calls `noVersion` instead (on the same transaction, no run created) with the tag asked for,
   * for the caller to fail the job. Null when the token no longer holds the job (nothing written).
   */
  startWorkflowRun<T>(
    start: { readonly jobId: string; readonly grabToken: string; readonly name: string },
    fn: (tx: WorkflowStepTx, run: WorkflowRun) => Promise<T>,
    noVersion: (tx: WorkflowStepTx, tag: string | null) => Promise<T>,
  ): Promise<T | null>;
  /** Stores a named JSON Schema (replacing one of that name); the caller checks that it compiles. */
  saveJsonSchema(name: string, schema: Json): Promise<void>;
  /** The stored named JSON Schemas, by name. */
  jsonSchemas(): Promise<{ name: string; schema: Json }[]>;
  /** Deletes the requested version tags of jobs that no longer exist, live or finished; returns how many. */
  trimJobTags(): Promise<number>;
  /**
   * Locks one run that has wake-ups queued or whose wake time has come (skipping runs another
   * engine holds), takes its wake-ups, and calls `fn` in the same transaction. Resolves
   * `{ stepped: false }` when no run is due.
   */
  stepWorkflowRun<T>(fn: (tx: WorkflowStepTx, run: WorkflowRun, wakeups: readonly WorkflowWakeup[]) => Promise<T>): Promise<{ stepped: true; value: T } | { stepped: false }>;
  /** The earliest wake time of any run, or null. */
  nextWorkflowWake(): Promise<Date | null>;
  /** Deletes wake-ups whose run no longer exists (appended as it ended); returns how many. */
  trimWorkflowWakeups(): Promise<number>;
  /** A workflow job's step log, oldest first. */
  workflowSteps(jobId: string): Promise<{ step: number; at: Date; kind: string; detail: Json }[]>;
  /**
   * Calls `onWake` when wake-ups were appended or units saved (`<schema>_workflows`). A latency
   * hint only: notifications are lost across reconnects, so engines also sweep.
   */
  listenWorkflows(onWake: (what: 'wake' | 'units') => void): Promise<{ close(): Promise<void> }>;
}

/** The longest version tag: as long as a funcname, plenty for `beta` or `2026-12-rollout`. */
const MAX_TAG_LENGTH = 200;

/**
 * Checks a workflow version tag (a job's requested one): null or undefined for none, else a
 * string of 1 to 200 characters. Throws ValidationError naming `field`.
 */
export function validateWorkflowTag(tag: unknown, field = 'workflowTag'): string | null {
  if (tag === undefined || tag === null) return null;
  if (typeof tag !== 'string' || tag.length === 0 || tag.length > MAX_TAG_LENGTH) {
    throw new ValidationError(field, `must be a string of 1 to ${MAX_TAG_LENGTH} characters`);
  }
  // Stored as text: refuse what PostgreSQL would (NUL) by name rather than as a database error.
  if (tag.includes('\u0000')) throw new ValidationError(field, 'must not contain NUL');
  return tag;
}
