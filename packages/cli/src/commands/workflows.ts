/**
 * `drover workflows load|list|show` (the namespace's workflow units, docs/workflows.md) and
 * `drover call` (enqueue a job and wait for its outcome). With DATABASE_URL, straight in
 * PostgreSQL; without it, through the HTTP API of the embedded instance on DROVER_DATA_DIR, with
 * the local token, as the other commands do.
 */
import { readFileSync } from 'node:fs';
import { ValidationError, formatTable, listedWorkflowUnit, parseJsonText, parseWholeNumber, validateWorkflowTag, type Json, type NewJob } from '@drover/core';
import { CallTimeoutError, HttpWorkflowApi, JobFailedError, awaitJobResult, type WorkflowApi, type WorkflowLoad } from '@drover/client';
import { loadUnits } from '@drover/workflow';
import type { Config } from '../config.js';
import { asOption } from '../option-errors.js';
import { printJson } from '../output.js';
import { withApi, withEmbeddedOrStore } from './jobs.js';

function withWorkflows<T>(config: Config, fn: (api: WorkflowApi) => Promise<T>): Promise<T> {
  return withEmbeddedOrStore<WorkflowApi, T>(config, 'workflows', {
    http: (url, options) => new HttpWorkflowApi(url, options),
    store: (store) => ({
      load: (load) => loadUnits(store, load),
      list: async (tag) => (await store.listWorkflowUnits(tag)).map(listedWorkflowUnit),
      show: (name, tag) => store.workflowUnit(name, tag),
    }),
  }, fn);
}

/** A field named `file:line:column`: a file that does not parse or compile. */
const LOCATED = /:\d+:\d+$/;

/** A file holding a named JSON Schema: `NAME.schema.json`, named NAME (JobCenter's json_schemas). */
const SCHEMA_FILE = /(?:^|[\\/])([^\\/]+)\.schema\.json$/;

/** The files of a load, read: JCL sources, and `NAME.schema.json` files as schemas named NAME. */
export function readLoad(files: readonly string[], tag: string | undefined): WorkflowLoad {
  const sources: { fileName: string; text: string }[] = [];
  const schemas: { name: string; schema: Json; fileName: string }[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ValidationError(file, `cannot read it: ${(err as Error).message}`, { cause: err });
    }
    const schemaName = SCHEMA_FILE.exec(file)?.[1];
    if (schemaName === undefined) sources.push({ fileName: file, text });
    else schemas.push({ name: schemaName, schema: parseJsonText(text, file), fileName: file });
  }
  return { files: sources, schemas, ...(tag === undefined ? {} : { tag }) };
}

/**
 * Reads, compiles and saves the files, all or none. A file that does not parse or compile is
 * printed as a compiler prints it (`file:line:col: message`) and exits 2, with nothing saved.
 */
export async function loadWorkflowsCommand(config: Config, files: string[], flags: { tag?: string; json?: boolean }): Promise<number> {
  const tag = tagFlag(flags.tag);
  try {
    const load = readLoad(files, tag);
    const loaded = await withWorkflows(config, (api) => api.load(load));
    if (flags.json) printJson(loaded);
    else {
      for (const name of loaded.schemas) process.stdout.write(`${name}  json schema\n`);
      for (const u of loaded.units) process.stdout.write(`${u.name}  ${u.kind}  version ${u.version}${tag === undefined ? '' : `  tag ${tag}`}\n`);
    }
    return 0;
  } catch (err) {
    // What is wrong with one of the files (located in it, or the whole file: unreadable, a schema
    // that is not JSON or does not compile) is the load's answer; anything else is the command's.
    if (!(err instanceof ValidationError) || !(LOCATED.test(err.field) || files.includes(err.field))) throw err;
    if (flags.json) printJson({ error: { at: err.field, message: err.message.replace(`${err.field}: `, '') } });
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
}

const tagsText = (tags: readonly string[]): string => (tags.length === 0 ? '-' : tags.join(','));

/** `--tag`, checked before any connection and named as typed. */
function tagFlag(tag: string | undefined): string | undefined {
  try {
    return validateWorkflowTag(tag, 'tag') ?? undefined;
  } catch (err) {
    throw asOption(err, { tag: '--tag' });
  }
}

export async function listWorkflowsCommand(config: Config, flags: { tag?: string; json?: boolean }): Promise<void> {
  const tag = tagFlag(flags.tag);
  const units = await withWorkflows(config, (api) => api.list(tag));
  if (flags.json) return printJson(units);
  const rows = units.map((u) => [u.name, u.kind, String(u.version), tagsText(u.tags), String(u.latestVersion), u.loadedAt.toISOString()]);
  const table = units.length === 0 ? 'no workflow units' : formatTable(['name', 'kind', 'version', 'tags', 'newest', 'loaded_at'], rows);
  process.stdout.write(`${table}\n`);
}

export async function showWorkflowCommand(config: Config, name: string, flags: { tag?: string; json?: boolean }): Promise<number> {
  const tag = tagFlag(flags.tag);
  const unit = await withWorkflows(config, (api) => api.show(name, tag));
  if (!unit) {
    if (flags.json) printJson(null);
    process.stderr.write(`no workflow unit ${name}\n`);
    return 1;
  }
  if (flags.json) {
    printJson(unit);
    return 0;
  }
  const lines = [
    `name       ${unit.name}`,
    `kind       ${unit.kind}`,
    `version    ${unit.version}${unit.latestVersion > unit.version ? ` (newest: ${unit.latestVersion})` : ''}`,
    `tags       ${tagsText(unit.tags)}`,
    `loaded_at  ${unit.loadedAt.toISOString()}`,
    `signature  ${unit.signature === null ? '- (loaded before signatures were kept)' : JSON.stringify(unit.signature)}`,
    '',
    unit.source.trimEnd(),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export interface CallFlags {
  timeoutMs?: string;
  tag?: string;
  json?: boolean;
}

/** The fields of a call named as typed on the command line. */
const CALL_OPTIONS: Readonly<Record<string, string>> = { funcname: '<name>', arg: '<arg>', timeoutMs: '--timeout-ms', tag: '--tag' };

/** The job and wait a `drover call` asks for, checked before any connection. */
export function callFromArgs(name: string, argText: string | undefined, flags: CallFlags): { job: NewJob; timeoutMs?: number; tag?: string } {
  try {
    const job: NewJob = { funcname: name, ...(argText === undefined ? {} : { arg: parseJsonText(argText, 'arg') }) };
    const timeoutMs = flags.timeoutMs === undefined ? undefined : parseWholeNumber(flags.timeoutMs, 'timeoutMs', 1, 2_147_483_647);
    const tag = validateWorkflowTag(flags.tag, 'tag') ?? undefined;
    return { job, ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(tag === undefined ? {} : { tag }) };
  } catch (err) {
    throw asOption(err, CALL_OPTIONS);
  }
}

/**
 * Enqueues a job of NAME (a workflow or any function) and waits for its outcome: prints the
 * result and exits 0, or prints the error (a failure, a cancel, or the wait running out) and exits 1.
 */
export async function callCommand(config: Config, name: string, argText: string | undefined, flags: CallFlags): Promise<number> {
  const { job, timeoutMs, tag } = callFromArgs(name, argText, flags);
  try {
    const outcome = await withApi(config, async (api) => {
      const { id } = await api.insert(job, tag === undefined ? {} : { workflowTag: tag });
      try {
        return { id, result: await awaitJobResult(api, id, timeoutMs === undefined ? {} : { timeoutMs }) };
      } catch (err) {
        if (err instanceof JobFailedError || err instanceof CallTimeoutError) return { id, error: err };
        throw err;
      }
    });
    if ('result' in outcome) {
      if (flags.json) printJson({ jobId: outcome.id, result: outcome.result });
      else process.stdout.write(`${JSON.stringify(outcome.result)}\n`);
      return 0;
    }
    if (flags.json) printJson({ jobId: outcome.id, error: outcome.error.message });
    process.stderr.write(`${outcome.error.message}\n`);
    return 1;
  } catch (err) {
    throw asOption(err, CALL_OPTIONS);
  }
}
