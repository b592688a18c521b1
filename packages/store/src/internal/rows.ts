/**
 * Maps database rows to the core's job types. Every statement returns the same column names, so
 * one mapper serves live, finished and claimed jobs.
 */
import type { ClaimedJob, Job, JobFailure, JobState, JobWithFailures, Json } from '@drover/core';

/** Columns shared by all_jobs and the live-job RETURNING lists. */
export interface JobRow {
  id: string;
  funcname: string;
  arg: Json;
  uniqkey: string | null;
  state: JobState;
  priority: number;
  run_after: Date | number | string;
  coalesce_key: string | null;
  max_retries: number;
  timeout_ms: number | null;
  attempts: number;
  failures: number;
  grabbed_until: Date | null;
  created_at: Date;
  finished_at?: Date | null;
  result?: Json;
}

export interface ClaimedRow extends JobRow {
  grab_token: string;
  grabbed_until: Date;
}

export interface JobWithFailuresRow extends JobRow {
  failure_log: { attempt: number; error: string; failedAt: string }[];
}

/** 'infinity' (never) arrives as Infinity or a non-finite Date depending on the driver; both mean null. */
function finiteDate(value: Date | number | string): Date | null {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isFinite(date.getTime()) ? date : null;
}

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    funcname: row.funcname,
    arg: row.arg,
    uniqkey: row.uniqkey,
    state: row.state,
    priority: row.priority,
    runAfter: finiteDate(row.run_after),
    coalesce: row.coalesce_key,
    maxRetries: row.max_retries,
    timeoutMs: row.timeout_ms,
    attempts: row.attempts,
    failures: row.failures,
    // A workflow job held by its run has no lease end ('infinity'): null, as for a job not running.
    grabbedUntil: row.grabbed_until === null || row.grabbed_until === undefined ? null : finiteDate(row.grabbed_until),
    createdAt: row.created_at,
    finishedAt: row.finished_at ?? null,
    result: row.result ?? null,
  };
}

export function toClaimedJob(row: ClaimedRow): ClaimedJob {
  return { ...toJob(row), state: 'running', grabToken: row.grab_token, grabbedUntil: row.grabbed_until };
}

export function toJobWithFailures(row: JobWithFailuresRow): JobWithFailures {
  const failureLog: JobFailure[] = row.failure_log.map((f) => ({ attempt: f.attempt, error: f.error, failedAt: new Date(f.failedAt) }));
  return { ...toJob(row), failureLog };
}
