/**
 * What the client raises: a refused hello, a call whose job failed or timed out, and what a
 * worker's handler throws to fail its task for good.
 */
import { DroverError, PermanentFailure, type Json } from '@drover/core';

/** The server refused `hello` (wrong token, unknown client, too many failures from this address). */
export class AuthError extends DroverError {
  override name = 'AuthError';
}

/** A `call`'s job ended in failure: its outargs held only `error`. */
export class CallError extends DroverError {
  override name = 'CallError';

  constructor(
    readonly funcname: string,
    readonly jobId: string,
    /** The outargs as the server sent them, e.g. `{"error": "division by zero"}`. */
    readonly outargs: Record<string, Json>,
    message = `${funcname} (job ${jobId}) failed: ${errorText(outargs.error)}`,
  ) {
    super(message);
  }
}

/** A `call` did not finish within its timeout (the job itself goes on). */
export class CallTimeoutError extends CallError {
  override name = 'CallTimeoutError';

  constructor(funcname: string, jobId: string, timeoutS: number) {
    super(funcname, jobId, { error: 'timeout' }, `${funcname} (job ${jobId}) did not finish within ${timeoutS} s; the job goes on`);
  }
}

/**
 * Thrown by a remote worker's handler: the job fails for good (`class: "fatal"`), without retries.
 * Any other error is a failed attempt that the job's retry policy may try again (`class: "soft"`).
 */
export class FatalError extends PermanentFailure {
  override name = 'FatalError';
}

/** The text of an outargs `error`: a string, or an object with `msg`. */
export function errorText(error: Json | undefined): string {
  if (typeof error === 'string') return error;
  if (error !== null && typeof error === 'object' && !Array.isArray(error) && typeof error.msg === 'string') return error.msg;
  return JSON.stringify(error ?? null);
}

/** Whether outargs say the job failed: `error` is their only key (JobCenter's rule). */
export function isFailure(outargs: Record<string, Json>): boolean {
  const keys = Object.keys(outargs);
  return keys.length === 1 && keys[0] === 'error';
}
