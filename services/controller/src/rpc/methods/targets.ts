/**
 * What a `create_job` name runs. JobCenter's `wfname` names a workflow (or an action); in Drover
 * today it names a function, run by whatever worker serves that function's queue. Every caller
 * resolves the name here, so that when workflows land a workflow name resolves to its own target
 * and create_job, scope checks and find_jobs need no change of shape.
 */
import { validateFuncname } from '@drover/core';

/** What runs a called name: today always a function's job. */
export type CallTarget = { kind: 'function'; funcname: string };

/**
 * Resolves a called name. Functions are not registered anywhere (a job waits for a worker of its
 * function to appear), so any valid function name resolves; an invalid one is a ValidationError
 * naming `field`.
 */
export function resolveCallTarget(name: unknown, field = 'wfname'): CallTarget {
  return { kind: 'function', funcname: validateFuncname(name, field) };
}

/** The function whose `call` scope decides who may call the target. */
export function scopeName(target: CallTarget): string {
  return target.funcname;
}
