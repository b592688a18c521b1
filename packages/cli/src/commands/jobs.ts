/**
 * The one-shot commands: migrate, enqueue, jobs, show, retry, cancel, stats. Each prints a human
 * answer, or JSON with --json, and closes its connections.
 */
import { resolve } from 'node:path';
import { ValidationError, parseJobFilters, parseJobId, parseJsonText, parseRescheduleWhen, parseWholeNumber, validateNewJob, type NewJob, type WorkflowRunStore } from '@drover/core';
import { HttpJobApi, type EventApi, type HttpApiOptions, type JobApi } from '@drover/client';
import type { PgJobStore } from '@drover/store';
import type { Config } from '../config.js';
import { readInstance, readLocalToken } from '../dev/instance.js';
import { asOption } from '../option-errors.js';
import { jobDetails, jobsTable, printJson, statsTable } from '../output.js';
import { createRuntime } from '../runtime.js';

/**
 * Runs `fn` on what `reach` makes of the way to the data: the HTTP API of the embedded instance
 * running on DROVER_DATA_DIR (its url and token) when DATABASE_URL is unset, else the store in
 * PostgreSQL, closed after. These commands never migrate (their role may lack DDL rights, and a
 * mistyped namespace must not be created): a schema that is missing or older than this code is
 * refused with a message that says to run `drover migrate`. `command` names the command in a
 * missing-configuration message.
 */
export async function withEmbeddedOrStore<A, T>(
  config: Config,
  command: string,
  reach: { http(url: string, options: HttpApiOptions): A; store(store: PgJobStore): A },
  fn: (api: A) => Promise<T>,
): Promise<T> {
  if (!config.DATABASE_URL) {
    const { url, token } = embeddedApi(config);
    return fn(reach.http(url, token === undefined ? {} : { token }));
  }
  const rt = createRuntime(config, 'cli', command);
  try {
    await rt.requireSchema();
    return await fn(reach.store(rt.store));
  } finally {
    await rt.close();
  }
}

/** Runs `fn` on the jobs (see withEmbeddedOrStore). */
export function withApi<T>(config: Config, fn: (api: JobApi & EventApi) => Promise<T>): Promise<T> {
  return withEmbeddedOrStore<JobApi & EventApi, T>(config, 'cli', { http: (url, options) => new HttpJobApi(url, options), store: (store) => store }, fn);
}

/** The store (not the HTTP API) also reads a workflow job's step log. */
function hasSteps(api: JobApi): api is JobApi & Pick<WorkflowRunStore, 'workflowSteps'> {
  return typeof (api as Partial<Pick<WorkflowRunStore, 'workflowSteps'>>).workflowSteps === 'function';
}

/**
 * Where the embedded instance on DROVER_DATA_DIR listens, and the token to use there: DROVER_TOKEN,
 * or the local admin's that `drover dev` keeps in the data folder.
 */
export function embeddedApi(config: Config): { url: string; token?: string } {
  const instance = readInstance(config.DROVER_DATA_DIR);
  if (!instance) {
    throw new ValidationError('DATABASE_URL', `is not set, and no \`drover dev\` is running on ${resolve(config.DROVER_DATA_DIR)}; set DATABASE_URL, or start one with \`npm start\``);
  }
  const token = config.DROVER_TOKEN ?? readLocalToken(config.DROVER_DATA_DIR) ?? undefined;
  return { url: instance.url, ...(token === undefined ? {} : { token }) };
}

/** Integer options of enqueue; their range is checked with the rest of the job (validateNewJob). */
function parseInteger(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  return parseWholeNumber(text, field, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
}

/** The option or argument a job field comes from, so an error names what the caller typed. */
const ENQUEUE_NAMES: Readonly<Record<string, string>> = {
  funcname: '<funcname>',
  arg: '<arg>',
  uniqkey: '--uniqkey',
  runAfter: '--run-after',
  priority: '--priority',
  coalesce: '--coalesce',
  maxRetries: '--max-retries',
  timeoutMs: '--timeout-ms',
};


/** A job id argument, refused here with the argument named rather than after a round trip. */
const jobId = (text: string): string => parseJobId(text, '<id>');

export async function migrateCommand(config: Config, json: boolean): Promise<void> {
  const rt = createRuntime(config, 'cli', 'migrate');
  const applied = await rt.migrate().finally(() => rt.close());
  if (json) printJson({ namespace: config.DROVER_NAMESPACE, applied });
  else process.stdout.write(applied.length ? `applied ${applied.join(', ')} to ${config.DROVER_NAMESPACE}\n` : `${config.DROVER_NAMESPACE} is up to date\n`);
}

export interface EnqueueFlags {
  uniqkey?: string;
  runAfter?: string;
  priority?: string;
  coalesce?: string;
  maxRetries?: string;
  timeoutMs?: string;
  idempotencyKey?: string;
  json?: boolean;
}

export async function enqueueCommand(config: Config, funcname: string, argText: string | undefined, flags: EnqueueFlags): Promise<void> {
  const job: NewJob = { funcname };
  try {
    if (argText !== undefined) job.arg = parseJsonText(argText, 'arg');
    if (flags.uniqkey !== undefined) job.uniqkey = flags.uniqkey;
    if (flags.runAfter !== undefined) job.runAfter = flags.runAfter;
    if (flags.coalesce !== undefined) job.coalesce = flags.coalesce;
    if (flags.idempotencyKey !== undefined) job.idempotencyKey = flags.idempotencyKey;
    const priority = parseInteger(flags.priority, 'priority');
    if (priority !== undefined) job.priority = priority;
    const maxRetries = parseInteger(flags.maxRetries, 'maxRetries');
    if (maxRetries !== undefined) job.maxRetries = maxRetries;
    const timeoutMs = parseInteger(flags.timeoutMs, 'timeoutMs');
    if (timeoutMs !== undefined) job.timeoutMs = timeoutMs;
    // Refused here, before any connection, exactly as the store or the API would refuse it.
    validateNewJob(job);
  } catch (err) {
    throw asOption(err, ENQUEUE_NAMES);
  }
  const result = await withApi(config, (api) => api.insert(job));
  if (flags.json) printJson(result);
  else process.stdout.write(result.inserted ? `enqueued job ${result.id}\n` : `job ${result.id} already holds that uniqkey or idempotency key; nothing enqueued\n`);
}

export interface JobsFlags {
  state?: string[];
  funcname?: string;
  arg?: string;
  limit?: string;
  before?: string;
  json?: boolean;
}

export async function jobsCommand(config: Config, flags: JobsFlags): Promise<void> {
  const { json: _json, ...filters } = flags;
  // The same parser as GET /jobs: an empty value is refused, not dropped (it would widen the listing).
  const query = parseJobFilters(filters, (f) => `--${f}`, { limit: 50 });
  const jobs = await withApi(config, (api) => api.findJobs(query));
  if (flags.json) printJson(jobs);
  else process.stdout.write(`${jobsTable(jobs)}\n`);
}

export async function showCommand(config: Config, id: string, json: boolean): Promise<number> {
  const valid = jobId(id);
  const job = await withApi(config, async (api) => {
    const found = await api.getJob(valid);
    // Over HTTP the API adds a workflow job's steps itself; straight on the store, they are read here.
    if (!found || !hasSteps(api)) return found;
    const steps = await api.workflowSteps(valid);
    return steps.length === 0 ? found : { ...found, steps };
  });
  if (!job) {
    if (json) printJson(null);
    process.stderr.write(`no job ${id}\n`);
    return 1;
  }
  if (json) printJson(job);
  else process.stdout.write(`${jobDetails(job)}\n`);
  return 0;
}

export async function retryCommand(config: Config, id: string, json: boolean): Promise<number> {
  const job = await withApi(config, (api) => api.retry(jobId(id)));
  if (json) printJson(job);
  if (!job) {
    process.stderr.write(`job ${id} is not a failed or cancelled job\n`);
    return 1;
  }
  if (!json) process.stdout.write(`job ${id} is ready again\n`);
  return 0;
}

export async function rescheduleCommand(config: Config, id: string, whenText: string, json: boolean): Promise<number> {
  const when = parseRescheduleWhen(whenText, '<when>');
  const valid = jobId(id);
  const job = await withApi(config, (api) => api.reschedule(valid, when));
  if (json) printJson(job);
  if (!job) {
    process.stderr.write(`job ${id} is not waiting (unknown, running or finished)\n`);
    return 1;
  }
  if (!json) process.stdout.write(`job ${id} now runs ${job.runAfter ? `after ${job.runAfter.toISOString()}` : 'never'}\n`);
  return 0;
}

export async function cancelCommand(config: Config, id: string, json: boolean): Promise<number> {
  const cancelled = await withApi(config, (api) => api.cancel(jobId(id)));
  if (json) printJson({ id, cancelled });
  if (!cancelled) {
    process.stderr.write(`job ${id} is not live (unknown or already finished)\n`);
    return 1;
  }
  if (!json) process.stdout.write(`job ${id} cancelled\n`);
  return 0;
}

export async function statsCommand(config: Config, json: boolean): Promise<void> {
  const counts = await withApi(config, (api) => api.counts());
  if (json) printJson(counts);
  else process.stdout.write(`${statsTable(counts)}\n`);
}
