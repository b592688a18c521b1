/**
 * The workflow engine's side of the store: stored units, and runs stepped one transaction at a
 * time. A step's transaction holds its run's row lock from the moment it is picked
 * (`lock-due-run.sql`, SKIP LOCKED) to its commit, and every effect of the step (children
 * inserted or cancelled, the new state, the log, the job's end) is written on it, so a step that
 * fails or whose engine dies leaves nothing behind and is taken again from the same state.
 */
import {
  ValidationError,
  toJsonText,
  validateFuncname,
  validateNewJob,
  validateWorkflowTag,
  type Json,
  type NamedJsonSchema,
  type NewWorkflowUnit,
  type StoredWorkflowUnit,
  type WorkflowEnd,
  type WorkflowProgram,
  type WorkflowRun,
  type WorkflowRunUpdate,
  type WorkflowStepTx,
  type WorkflowUnitKind,
  type WorkflowUnitRef,
  type WorkflowWakeup,
} from '@drover/core';
import { checkId } from './checks.js';
import type { StoreContext } from './context.js';
import type { SqlExecutor } from './executor.js';
import { checkSchema, saveSchemaOn } from './json-schemas.js';
import * as outcomes from './outcomes.js';
import { SqlWorkflowStore } from '../sql-workflow-store.js';
import { SQL } from './statements.js';

const UNIT_KINDS: readonly WorkflowUnitKind[] = ['workflow', 'action', 'procedure', 'interface'];

interface RunRow {
  job_id: string;
  unit_id: string;
  depth: number;
  parent_job_id: string | null;
  state?: Json | null;
  waiting?: Json | null;
  wake_at?: Date | null;
  steps: number;
  grab_token: string | null;
  arg: Json | null;
}

function toRun(row: RunRow): WorkflowRun {
  return {
    jobId: row.job_id,
    unitId: row.unit_id,
    depth: row.depth,
    parentJobId: row.parent_job_id,
    state: row.state ?? null,
    waiting: row.waiting ?? null,
    wakeAt: row.wake_at ?? null,
    steps: row.steps,
    grabToken: row.grab_token,
    arg: row.arg ?? null,
  };
}

/** Stores a unit as its name's next version; bad input names the field and stores nothing. */
export async function saveUnit(ctx: StoreContext, unit: NewWorkflowUnit): Promise<WorkflowUnitRef> {
  return insertUnit(ctx, ctx.db, checkUnit(unit, ''));
}

/**
 * Stores the named schemas, then the units in order, in one transaction: all or none. Everything
 * is checked before the first INSERT, so bad input (named as `units[i].field` or
 * `schemas[i].field`) writes nothing and costs no round trip.
 */
export async function saveUnits(ctx: StoreContext, units: readonly NewWorkflowUnit[], schemas: readonly NamedJsonSchema[] = []): Promise<WorkflowUnitRef[]> {
  if (!Array.isArray(units)) throw new ValidationError('units', 'must be a list of units');
  if (!Array.isArray(schemas)) throw new ValidationError('schemas', 'must be a list of { name, schema }');
  const checked = (units as readonly NewWorkflowUnit[]).map((unit, i) => checkUnit(unit, `units[${i}].`));
  const checkedSchemas = (schemas as readonly NamedJsonSchema[]).map((s, i) => checkSchema(s?.name, s?.schema, `schemas[${i}].`));
  return ctx.db.transaction(async (tx) => {
    for (const params of checkedSchemas) await saveSchemaOn(ctx, tx, params);
    const refs: WorkflowUnitRef[] = [];
    for (const params of checked) refs.push(await insertUnit(ctx, tx, params));
    return refs;
  });
}

type UnitParams = [string, WorkflowUnitKind, string[], string, string, string | null, string | null];

/** The INSERT's parameters (but now), or a ValidationError naming the field, with `prefix` before it. */
function checkUnit(unit: NewWorkflowUnit, prefix: string): UnitParams {
  const field = (name: string): string => `${prefix}${name}`;
  const rename = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ValidationError && prefix !== '') throw new ValidationError(field(err.field), err.message.replace(`${err.field}: `, ''), { cause: err });
      throw err;
    }
  };
  if (typeof unit !== 'object' || unit === null) throw new ValidationError(prefix === '' ? 'unit' : prefix.slice(0, -1), 'must be a unit object');
  const name = rename(() => validateFuncname(unit.name, 'name'));
  if (!UNIT_KINDS.includes(unit.kind)) throw new ValidationError(field('kind'), `must be one of ${UNIT_KINDS.join(', ')}`);
  const tags: unknown = unit.tags ?? [];
  if (!Array.isArray(tags)) throw new ValidationError(field('tags'), 'must be a list of tags');
  // A tag as a job asks for it (validateWorkflowTag), so every tag loaded can be asked for.
  tags.forEach((t: unknown, i) => validateWorkflowTag(t, field(`tags[${i}]`)));
  if (typeof unit.source !== 'string') throw new ValidationError(field('source'), 'must be a string');
  const unitJson = rename(() => toJsonText(unit.unit, 'unit'));
  if ((unit.kind === 'workflow') !== (unit.compiled !== null && unit.compiled !== undefined)) {
    throw new ValidationError(field('compiled'), 'must be given for a workflow, and only for a workflow');
  }
  const compiled = unit.compiled === null ? null : rename(() => toJsonText(unit.compiled, 'compiled'));
  const signature = unit.signature === undefined || unit.signature === null ? null : rename(() => toJsonText(unit.signature, 'signature'));
  // The source is stored as text: refuse what PostgreSQL would (NUL, lone surrogates) by name.
  rename(() => toJsonText(unit.source, 'source'));
  return [name, unit.kind, [...(tags as string[])], unit.source, unitJson, compiled, signature];
}

async function insertUnit(ctx: StoreContext, db: SqlExecutor, params: UnitParams): Promise<WorkflowUnitRef> {
  const [name, kind, tags, source, unitJson, compiled, signature] = params;
  const [row] = await db.query<WorkflowUnitRef>(SQL.saveWorkflowUnit, [name, kind, tags, source, unitJson, compiled, ctx.now(), signature]);
  return row!;
}

interface StoredUnitRow {
  id: string;
  name: string;
  kind: WorkflowUnitKind;
  version: number;
  tags: string[];
  signature: Json | null;
  source: string;
  loaded_at: Date;
  latest_version: number;
}

const toStored = (row: StoredUnitRow): StoredWorkflowUnit => ({
  id: row.id,
  name: row.name,
  kind: row.kind,
  version: row.version,
  tags: row.tags,
  latestVersion: row.latest_version,
  signature: row.signature ?? null,
  source: row.source,
  loadedAt: row.loaded_at,
});

/** One version of every stored name, the one a job asking for `tag` runs; a malformed tag is refused by name. */
export async function listUnits(ctx: StoreContext, tag?: string | null): Promise<StoredWorkflowUnit[]> {
  return (await ctx.db.query<StoredUnitRow>(SQL.listWorkflowUnits, [validateWorkflowTag(tag, 'tag')])).map(toStored);
}

/** One version of one name, picked as listUnits picks it, or null; a malformed name or tag is refused by name. */
export async function unitByName(ctx: StoreContext, name: string, tag?: string | null): Promise<StoredWorkflowUnit | null> {
  const [row] = await ctx.db.query<StoredUnitRow>(SQL.workflowUnit, [validateFuncname(name, 'name'), validateWorkflowTag(tag, 'tag')]);
  return row ? toStored(row) : null;
}

/** The newest version of each stored workflow. */
export async function units(ctx: StoreContext): Promise<WorkflowUnitRef[]> {
  return ctx.db.query<WorkflowUnitRef>(SQL.workflowUnits, []);
}

/** A workflow's program by unit id. */
export async function program(ctx: StoreContext, unitId: string): Promise<WorkflowProgram | null> {
  const [row] = await ctx.db.query<{ unit_id: string; name: string; version: number; compiled: Json }>(SQL.workflowProgram, [checkId(unitId, 'unitId')]);
  return row ? { unitId: row.unit_id, name: row.name, version: row.version, compiled: row.compiled } : null;
}

/**
 * Starts a claimed workflow job's run on the version its tag picks, and runs `fn` in the same
 * transaction; runs `noVersion` there instead when no version fits; null when fenced out.
 */
export async function startRun<T>(
  ctx: StoreContext,
  start: { readonly jobId: string; readonly grabToken: string; readonly name: string },
  fn: (tx: WorkflowStepTx, run: WorkflowRun) => Promise<T>,
  noVersion: (tx: WorkflowStepTx, tag: string | null) => Promise<T>,
): Promise<T | null> {
  checkId(start.jobId, 'jobId');
  const name = validateFuncname(start.name, 'name');
  return ctx.db.transaction(async (db) => {
    // The version is picked in the start's transaction, so a load committing meanwhile is either
    // seen whole or not at all; the run names its unit from now on.
    const [version] = await db.query<{ tag: string | null; unit_id: string | null }>(SQL.resolveWorkflowVersion, [start.jobId, start.grabToken, name]);
    if (!version) return null;
    if (version.unit_id === null) return noVersion(stepTx(ctx, db), version.tag);
    const [row] = await db.query<RunRow>(SQL.startWorkflowRun, [start.jobId, start.grabToken, version.unit_id, ctx.now()]);
    if (!row) return null;
    return fn(stepTx(ctx, db), toRun(row));
  });
}

/** Locks one due run, takes its wake-ups and runs `fn` on them, all in one transaction. */
export async function stepRun<T>(
  ctx: StoreContext,
  fn: (tx: WorkflowStepTx, run: WorkflowRun, wakeups: readonly WorkflowWakeup[]) => Promise<T>,
): Promise<{ stepped: true; value: T } | { stepped: false }> {
  return ctx.db.transaction(async (db) => {
    const [row] = await db.query<RunRow>(SQL.lockDueRun, [ctx.now()]);
    if (!row) return { stepped: false as const };
    const taken = await db.query<{ id: string; kind: WorkflowWakeup['kind']; child_id: string | null; payload: Json | null }>(SQL.takeWakeups, [row.job_id]);
    const wakeups = taken
      .map((w) => ({ id: w.id, kind: w.kind, childId: w.child_id, payload: w.payload ?? null }))
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    return { stepped: true as const, value: await fn(stepTx(ctx, db), toRun(row), wakeups) };
  });
}

/** The operations of one step, on its transaction. */
function stepTx(ctx: StoreContext, db: SqlExecutor): WorkflowStepTx {
  const txCtx: StoreContext = { ...ctx, db };
  return {
    runtime: new SqlWorkflowStore(txCtx),
    ancestors: async (jobId) => (await db.query<{ id: string }>(SQL.jobAncestors, [checkId(jobId)])).map((r) => r.id),
    program: (unitId) => program(txCtx, unitId),
    insertChild: async (parentId, job, tagFrom) => {
      // The store's own defaults (priority 0, the default max retries): a child is a job like any
      // other, and a worker's per-function maxRetries still overrides its retries.
      const valid = validateNewJob({ funcname: job.funcname, arg: job.arg }, 'child', ctx.maxRetriesDefault());
      const [row] = await db.query<{ id: string }>(SQL.insertChildJob, [
        valid.funcname, valid.argJson, valid.priority, valid.maxRetries, parentId === null ? null : checkId(parentId, 'parentId'), ctx.now(),
        tagFrom === undefined ? null : checkId(tagFrom, 'tagFrom'),
      ]);
      return row!.id;
    },
    cancelJobs: async (ids) => {
      const cancelled: string[] = [];
      // One at a time in id order: cancel.sql takes one job, and a fixed order cannot deadlock
      // with another step cancelling an overlapping set.
      for (const id of [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))) {
        const rows = await db.query(SQL.cancel, [checkId(id), ctx.retention.cancelledMs, ctx.now()]);
        if (rows.length > 0) cancelled.push(id);
      }
      return cancelled;
    },
    liveChildren: async (parentId) => (await db.query<{ id: string }>(SQL.liveChildren, [checkId(parentId, 'parentId')])).map((r) => r.id),
    saveRun: async (jobId, update: WorkflowRunUpdate) => {
      await db.query(SQL.saveRun, [jobId, toJsonText(update.state, 'state'), toJsonText(update.waiting, 'waiting'), update.wakeAt, update.steps, ctx.now()]);
    },
    logStep: async (jobId, kind, detail) => {
      await db.query(SQL.logStep, [jobId, kind, toJsonText(detail, 'detail'), ctx.now()]);
    },
    finishRun: async (jobId, grabToken, end: WorkflowEnd) => {
      let accepted: boolean;
      if (end.kind === 'completed') {
        const done = await outcomes.completeAndClaimOn(txCtx, db, { completions: [{ id: jobId, grabToken, result: end.output }] });
        accepted = done.completed[0]?.accepted ?? false;
      } else {
        const [failed] = await outcomes.fail(txCtx, [{ id: jobId, grabToken, error: end.error, permanent: true, retryDelayMs: 0 }], false);
        accepted = failed?.accepted ?? false;
      }
      await db.query(SQL.deleteRun, [jobId]);
      return accepted;
    },
    deleteRun: async (jobId) => {
      await db.query(SQL.deleteRun, [jobId]);
    },
  };
}

/** The earliest wake time of any run. */
export async function nextWake(ctx: StoreContext): Promise<Date | null> {
  const [row] = await ctx.db.query<{ at: Date | null }>(SQL.nextWorkflowWake, []);
  return row?.at ?? null;
}

/** Deletes wake-ups left for runs that no longer exist. */
export async function trimWakeups(ctx: StoreContext): Promise<number> {
  return (await ctx.db.query(SQL.trimWorkflowWakeups, [ctx.now()])).length;
}

/** A workflow job's step log. */
export async function steps(ctx: StoreContext, jobId: string): Promise<{ step: number; at: Date; kind: string; detail: Json }[]> {
  return ctx.db.query(SQL.workflowSteps, [checkId(jobId, 'jobId')]);
}
