/**
 * Checks the HTTP routes share: the shape of a body, and the caller's call scope on a function it
 * named itself.
 */
import type { FastifyRequest } from 'fastify';
import { ValidationError, authorizes } from '@drover/core';
import { HttpRefusal } from './http-errors.js';
import { clientOf } from './http-guard.js';

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A request that says nothing (a retry, a cancel, a launch, a delete) takes `{}`: a JSON body, so that no HTML form can send it. */
export function checkEmptyBody(body: unknown): void {
  if (body === undefined || body === null) return;
  if (!isObject(body)) throw new ValidationError('body', 'must be {}');
  const extra = Object.keys(body)[0];
  if (extra !== undefined) throw new ValidationError(extra, 'is not a field of this request, whose body is {}');
}

/**
 * Refuses a client that may not call `funcname` (and is no admin). Only for a function the caller
 * named itself: a job's or a trigger's function is not told to a client that may not read it.
 */
export function requireCall(request: FastifyRequest, funcname: string, what: string): void {
  if (authorizes(clientOf(request), 'call', funcname)) return;
  throw new HttpRefusal(403, `this client may not ${what} (no call scope matches function ${funcname})`);
}
