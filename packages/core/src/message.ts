/**
 * The broker message codec. A Drover message carries a job id and nothing else (the job lives in
 * PostgreSQL), so both ends of the broker agree on this one encoding: the publisher (the relay,
 * through a broker adapter) and the consumer (the worker shim, which needs no broker package to
 * read it).
 */
import { ValidationError } from './errors.js';

/** A job id as PostgreSQL's bigint identity gives it out: 1 to 19 decimal digits, no sign, no leading zero. */
const JOB_ID = /^[1-9][0-9]{0,18}$/;

/**
 * The message body: the job id as decimal text (small, and readable in the management UI). Text,
 * not bytes, so that core stays free of Node's Buffer; an adapter encodes it as UTF-8.
 */
export function encodeJobId(jobId: string): string {
  if (!JOB_ID.test(jobId)) throw new ValidationError('jobId', 'must be a job id: a positive integer, as a string');
  return jobId;
}

/** The job id in a message body, or null when the body is not a Drover message. */
export function decodeJobId(body: string): string | null {
  return JOB_ID.test(body) ? body : null;
}
