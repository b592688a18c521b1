/**
 * What a remote worker's `task_done` says about its task. JobCenter's convention: `outargs` whose
 * only top-level key is `error` is a failure (a string, or `{msg, class}`); anything else is the
 * result. Class `fatal` fails the job for good; any other class (JobCenter's `soft`, or one of the
 * worker's own) is a failed attempt, retried under the function's policy, as the issue that made
 * this API asked. An error with no class at all (a string, or an object without `class`) fails for
 * good, as in JobCenter (its doc/errors.md and do_task_error): JobCenter's Perl client reports a
 * handler that dies as `{"error": "<the message>"}`, and its callers expect that error back at
 * once, not after a day of retries.
 */
import type { Json } from '@drover/core';

/** A task's end as its worker reported it. */
export type TaskEnd = { kind: 'complete'; result: Json } | { kind: 'fail'; error: string } | { kind: 'fatal'; error: string };

/** Reads `outargs` (already known to be a JSON object) into a {@link TaskEnd}. */
export function taskEnd(outargs: Record<string, Json>): TaskEnd {
  const keys = Object.keys(outargs);
  if (keys.length !== 1 || keys[0] !== 'error') return { kind: 'complete', result: outargs };
  const error = outargs.error;
  if (typeof error === 'object' && error !== null && !Array.isArray(error)) {
    const text = typeof error.msg === 'string' ? error.msg : JSON.stringify(error);
    const retried = typeof error.class === 'string' && error.class !== 'fatal';
    return retried ? { kind: 'fail', error: text } : { kind: 'fatal', error: text };
  }
  return { kind: 'fatal', error: typeof error === 'string' ? error : JSON.stringify(error) };
}
