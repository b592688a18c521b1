/**
 * The caller's side of JobCenter's protocol: `create_job` (with `job_done` later on the same
 * connection), `get_job_status` (with `notify`), and `find_jobs`. create_job needs the client's
 * `call` scope on the function, and the job is the client's own; get_job_status and find_jobs
 * reach only the client's own jobs (any job for `admin`), as the HTTP API does (job-access.ts).
 *
 * Answers follow the wire contract (JOBCENTER-PROTOCOL.md): a parameter of the wrong shape is a
 * -32001 error naming it; a refusal the protocol answers in-band is a result (`[null, "reason"]`
 * for create_job and find_jobs, `[null, {"error": …}]` for get_job_status). Job ids travel as
 * numbers (see {@link wireJobId}) and are taken as numbers or decimal strings.
 */
import {
  ValidationError,
  authorizes,
  parseJobId,
  toJsonText,
  type AdminStore,
  type ApiClient,
  type CallerStore,
  type FinishedState,
  type Json,
  type Logger,
  validateWorkflowTag,
} from '@drover/core';
import type { CompletionWatcher } from '../completions.js';
import type { SessionMethod } from '../session.js';
import { MAX_TIMEOUT_S, canWait, outargsOf, sendJobDoneLater, wireJobId } from './job-done.js';
import { mayActOnJob } from '../../job-access.js';
import { numberParam } from './perl-numbers.js';
import { resolveCallTarget, scopeName } from './targets.js';

/** What the caller's methods need. */
export interface CallMethodsOptions {
  store: CallerStore & Pick<AdminStore, 'getJob'>;
  watcher: CompletionWatcher;
  logger: Logger;
}

/** find_jobs answers at most this many ids, the newest: a bounded read of the history table. */
export const FIND_JOBS_MAX = 1000;

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A job id as it arrives: a positive integer, or the same in decimal. */
export function parseWireJobId(raw: unknown, field = 'job_id'): string {
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw) || raw < 1) throw new ValidationError(field, 'must be a job id: a positive integer, or one in a decimal string');
    return String(raw);
  }
  return parseJobId(raw, field);
}

/** Absent and null are none (JobCenter's client sends unused keys as null); otherwise a string. */
/** Seconds, a number or its decimal string (see perl-numbers.ts); 0, null or absent means no timeout. */
function parseTimeout(raw: unknown): number {
  if (raw === undefined || raw === null) return 0;
  const seconds = numberParam(raw);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_TIMEOUT_S) {
    throw new ValidationError('timeout', `must be a number of seconds from 0 (none) to ${MAX_TIMEOUT_S}`);
  }
  return seconds;
}

/** create_job, get_job_status and find_jobs, for the method table. */
export function callMethods(options: CallMethodsOptions): Record<string, SessionMethod<ApiClient>> {
  const { store, watcher } = options;
  const log = options.logger.child({ component: 'rpc-calls' });

  const createJob: SessionMethod<ApiClient> = async (params, session, call) => {
    const target = resolveCallTarget(params.wfname);
    const inargs = params.inargs;
    if (!isObject(inargs)) throw new ValidationError('inargs', 'must be an object');
    // Checked here so that a problem is named as the caller sent it (inargs…), not as the store calls it (arg…).
    toJsonText(inargs, 'inargs');
    // An empty vtag is no tag (a client that always sends the field); anything else names a tag.
    const vtag = params.vtag === '' ? null : validateWorkflowTag(params.vtag, 'vtag');
    if (params.clenv !== undefined && params.clenv !== null && !isObject(params.clenv)) throw new ValidationError('clenv', 'must be an object or null');
    const timeoutS = parseTimeout(params.timeout);
    if (!authorizes(session.client, 'call', scopeName(target))) return [null, `this client may not call ${target.funcname} (no call scope matches it)`];
    if (!canWait(session.peer)) return [null, 'this connection already waits for as many jobs as it may; wait for some to finish'];
    // vtag picks the workflow's version (the newest carrying it, else the newest default); the
    // engine reads it when the job starts. On an action it means nothing, as in JobCenter.
    const { id } = await store.insertFor(session.who, { funcname: target.funcname, arg: inargs }, { awaited: true, ...(vtag ? { workflowTag: vtag } : {}) });
    sendJobDoneLater({ watcher, peer: session.peer, call, jobId: id, timeoutS, logger: log });
    log.debug({ jobId: id, funcname: target.funcname, who: session.who }, 'create_job');
    return [wireJobId(id), null];
  };

  const getJobStatus: SessionMethod<ApiClient> = async (params, session, call) => {
    const id = parseWireJobId(params.job_id);
    const notify = params.notify ?? false;
    if (typeof notify !== 'boolean') throw new ValidationError('notify', 'must be true or false');
    const job = await store.getJob(id);
    if (!job) return [null, { error: `no job ${id}` }];
    // The HTTP API's rule (job-access.ts); a job out of reach reads as one that does not exist.
    if (!(await mayActOnJob(store, session.client, job))) return [null, { error: `no job ${id}` }];
    if (FINISHED.has(job.state)) {
      const error = job.failureLog.at(-1)?.error ?? null;
      return [wireJobId(id), outargsOf({ state: job.state as FinishedState, result: job.result, error })];
    }
    if (!notify) return [null, null];
    if (!canWait(session.peer)) throw new ValidationError('notify', 'this connection already waits for as many jobs as it may');
    // Wait first, then mark: the announcement cannot come before the waiter exists.
    const drop = sendJobDoneLater({ watcher, peer: session.peer, call, jobId: id, timeoutS: 0, logger: log });
    const live = await store.awaitJobs([id]);
    if (live.length > 0) return [null, null];
    // It finished between the read and the mark: answer its outcome now, and send no job_done.
    drop();
    const [outcome] = await store.finishedOutcomes([id]);
    return outcome ? [wireJobId(id), outargsOf(outcome)] : [null, { error: `no job ${id}` }];
  };

  const findJobs: SessionMethod<ApiClient> = async (params, session) => {
    const parsed = parseFilter(params.filter);
    if ('error' in parsed) return [null, parsed.error];
    // A client without admin finds its own jobs (of the functions it may still call).
    const owner = authorizes(session.client, 'admin') ? {} : { owner: session.who };
    const found = await store.findJobIds(parsed.filter, { limit: FIND_JOBS_MAX, ...owner });
    return found.filter((job) => authorizes(session.client, 'call', job.funcname)).map((job) => wireJobId(job.id));
  };

  return { create_job: createJob, get_job_status: getJobStatus, find_jobs: findJobs };
}

/**
 * find_jobs' filter: the Perl client sends a JSON text of an object; an object is taken too. An
 * empty or unusable filter is answered in-band, as JobCenter does.
 */
function parseFilter(raw: unknown): { filter: Json } | { error: string } {
  let filter: unknown = raw;
  if (typeof raw === 'string') {
    try {
      filter = JSON.parse(raw);
    } catch {
      return { error: 'filter: is not JSON text' };
    }
  }
  if (!isObject(filter)) return { error: 'filter: must be a JSON object (or its JSON text), e.g. {"customer": 42}' };
  if (Object.keys(filter).length === 0) return { error: 'filter: is empty; an empty filter would match every job' };
  try {
    toJsonText(filter, 'filter');
  } catch (err) {
    return { error: (err as Error).message };
  }
  return { filter: filter as Json };
}
