/**
 * The one-shot commands: migrate, enqueue, jobs, show, retry, cancel, stats. Each prints a human
 * answer, or JSON with --json, and closes its connections.
 */
import { resolve } from 'node:path';
import { JOB_STATES, ValidationError, type JobState, type NewJob, type RescheduleWhen } from '@drover/core';
import { HttpJobApi, type JobApi } from '@drover/client';
import type { Config } from '../config.js';
import { readInstance } from '../dev/instance.js';
import { jobDetails, jobsTable, printJson, statsTable } from '../output.js';
import { createRuntime } from '../runtime.js';

/**
 * Runs `fn` on the jobs: in PostgreSQL when DATABASE_URL is set (migrating first, so a fresh
 * database works), otherwise through the API of the embedded instance running on DROVER_DATA_DIR.
 */
async function withApi<T>(config: Config, fn: (api: JobApi) => Promise<T>): Promise<T> {
  if (!config.DATABASE_URL) {
    const instance = readInstance(config.DROVER_DATA_DIR);
    if (!instance) {
      throw new ValidationError('DATABASE_URL', `is not set, and no \`drover dev\` is running on ${resolve(config.DROVER_DATA_DIR)}; set DATABASE_URL, or start one with \`npm start\``);
    }
    return fn(new HttpJobApi(instance.url));
  }
  const rt = createRuntime(config, 'cli');
  try {
    await rt.migrate();
    return await fn(rt.store);
  } finally {
    await rt.close();
  }
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(field, `is not valid JSON: ${(err as Error).message}`);
  }
}

function parseInteger(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text)) throw new ValidationError(field, 'must be an integer');
  return Number(text);
}

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
  if (argText !== undefined) job.arg = parseJson(argText, 'arg');
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
  const states = flags.state?.map((s, i) => {
    if (!(JOB_STATES as readonly string[]).includes(s)) throw new ValidationError(`state[${i}]`, `must be one of ${JOB_STATES.join(', ')}`);
    return s as JobState;
  });
  const jobs = await withApi(config, (api) =>
    api.findJobs({
      ...(states ? { states } : {}),
      ...(flags.funcname ? { funcname: flags.funcname } : {}),
      ...(flags.arg ? { argContains: parseJson(flags.arg, 'arg') as never } : {}),
      ...(flags.before ? { beforeId: flags.before } : {}),
      limit: parseInteger(flags.limit, 'limit') ?? 50,
    }),
  );
  if (flags.json) printJson(jobs);
  else process.stdout.write(`${jobsTable(jobs)}\n`);
}

export async function showCommand(config: Config, id: string, json: boolean): Promise<number> {
  const job = await withApi(config, (api) => api.getJob(id));
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
  const job = await withApi(config, (api) => api.retry(id));
  if (json) printJson(job);
  if (!job) {
    process.stderr.write(`job ${id} is not a failed or cancelled job\n`);
    return 1;
  }
  if (!json) process.stdout.write(`job ${id} is ready again\n`);
  return 0;
}

export async function rescheduleCommand(config: Config, id: string, whenText: string, json: boolean): Promise<number> {
  const when = whenText === 'never' || whenText.startsWith('+') ? (whenText as RescheduleWhen) : new Date(whenText);
  if (when instanceof Date && Number.isNaN(when.getTime())) throw new ValidationError('when', "must be 'never', '+N' (seconds from now) or an ISO 8601 time");
  const job = await withApi(config, (api) => api.reschedule(id, when));
  if (json) printJson(job);
  if (!job) {
    process.stderr.write(`job ${id} is not waiting (unknown, running or finished)\n`);
    return 1;
  }
  if (!json) process.stdout.write(`job ${id} now runs ${job.runAfter ? `after ${job.runAfter.toISOString()}` : 'never'}\n`);
  return 0;
}

export async function cancelCommand(config: Config, id: string, json: boolean): Promise<number> {
  const cancelled = await withApi(config, (api) => api.cancel(id));
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
