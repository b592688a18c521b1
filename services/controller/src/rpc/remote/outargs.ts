/**
 * What a remote worker's `task_done` says about its task. JobCenter's convention: `outargs` whose
 * only top-level key is `error` is a failure (a string, or `{msg, class}`); anything else is the
 * result. As in JobCenter (its doc/errors.md and do_task_error), only class `soft` asks for a
 * retry: it is a failed attempt, retried under the function's policy. Any other error (a string,
 * no class, `fatal`, or a class of the worker's own) fails the job for good. This matters for
 * JobCenter's Perl client, which reports a handler that dies as `{"error": "<the message>"}`: its
 * callers expect that error back at once, not after a day of retries.
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
    return error.class === 'soft' ? { kind: 'fail', error: text } : { kind: 'fatal', error: text };
  }
  return { kind: 'fatal', error: typeof error === 'string' ? error : JSON.stringify(error) };
}
