/**
 * The one-shot commands: migrate, enqueue, jobs, show, retry, cancel, stats. Each prints a human
 * answer, or JSON with --json, and closes its connections.
 */
import { JOB_STATES, ValidationError, type JobState, type NewJob, type RescheduleWhen } from '@drover/core';
import type { Config } from '../config.js';
import { jobDetails, jobsTable, printJson, statsTable } from '../output.js';
import { createRuntime } from '../runtime.js';

async function withRuntime<T>(config: Config, fn: (rt: ReturnType<typeof createRuntime>) => Promise<T>): Promise<T> {
  const rt = createRuntime(config, 'cli');
  try {
    return await fn(rt);
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
  const applied = await withRuntime(config, (rt) => rt.migrate());
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
  json?: boolean;
}

export async function enqueueCommand(config: Config, funcname: string, argText: string | undefined, flags: EnqueueFlags): Promise<void> {
  const job: NewJob = { funcname };
  if (argText !== undefined) job.arg = parseJson(argText, 'arg');
  if (flags.uniqkey !== undefined) job.uniqkey = flags.uniqkey;
  if (flags.runAfter !== undefined) job.runAfter = flags.runAfter;
  if (flags.coalesce !== undefined) job.coalesce = flags.coalesce;
  const priority = parseInteger(flags.priority, 'priority');
  if (priority !== undefined) job.priority = priority;
  const maxRetries = parseInteger(flags.maxRetries, 'maxRetries');
  if (maxRetries !== undefined) job.maxRetries = maxRetries;
  const timeoutMs = parseInteger(flags.timeoutMs, 'timeoutMs');
  if (timeoutMs !== undefined) job.timeoutMs = timeoutMs;
  const result = await withRuntime(config, async (rt) => {
    await rt.migrate();
    return rt.store.insert(job);
  });
  if (flags.json) printJson(result);
  else process.stdout.write(result.inserted ? `enqueued job ${result.id}\n` : `job ${result.id} already holds that uniqkey; nothing enqueued\n`);
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
  const jobs = await withRuntime(config, (rt) =>
    rt.store.findJobs({
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
  const job = await withRuntime(config, (rt) => rt.store.getJob(id));
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
  const job = await withRuntime(config, (rt) => rt.store.retry(id));
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
  const job = await withRuntime(config, (rt) => rt.store.reschedule(id, when));
  if (json) printJson(job);
  if (!job) {
    process.stderr.write(`job ${id} is not waiting (unknown, running or finished)\n`);
    return 1;
  }
  if (!json) process.stdout.write(`job ${id} now runs ${job.runAfter ? `after ${job.runAfter.toISOString()}` : 'never'}\n`);
  return 0;
}

export async function cancelCommand(config: Config, id: string, json: boolean): Promise<number> {
  const cancelled = await withRuntime(config, (rt) => rt.store.cancel(id));
  if (json) printJson({ id, cancelled });
  if (!cancelled) {
    process.stderr.write(`job ${id} is not live (unknown or already finished)\n`);
    return 1;
  }
  if (!json) process.stdout.write(`job ${id} cancelled\n`);
  return 0;
}

export async function statsCommand(config: Config, json: boolean): Promise<void> {
  const counts = await withRuntime(config, (rt) => rt.store.counts());
  if (json) printJson(counts);
  else process.stdout.write(`${statsTable(counts)}\n`);
}
