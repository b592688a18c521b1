/**
 * Drover's error taxonomy. Handlers throw {@link PermanentFailure} or {@link Decline} to steer
 * what happens to their job; every other error from a handler is an ordinary failed attempt that
 * backs off. Infrastructure errors are classified as retryable by PostgreSQL SQLSTATE or AMQP
 * reply code, so callers can retry a statement instead of failing a job.
 */

/** Base class: every error Drover raises on purpose. */
export class DroverError extends Error {
  override name = 'DroverError';
}

/** Bad input. Names the offending field; nothing was written. */
export class ValidationError extends DroverError {
  override name = 'ValidationError';
  /** Path of the offending field, e.g. `funcname` or `jobs[3].arg.when`. */
  readonly field: string;

  constructor(field: string, problem: string, options?: ErrorOptions) {
    super(`${field}: ${problem}`, options);
    this.field = field;
  }
}

/** Thrown by a handler: the job fails for good, without retries. */
export class PermanentFailure extends DroverError {
  override name = 'PermanentFailure';
}

/** Thrown by a handler: give the job back without counting a failure, optionally not before `runAfter`. */
export class Decline extends DroverError {
  override name = 'Decline';
  readonly runAfter: Date | null;

  constructor(message = 'declined', runAfter: Date | null = null, options?: ErrorOptions) {
    super(message, options);
    this.runAfter = runAfter;
  }
}

/** An outcome write was refused because the writer no longer holds the job's lease (its grab token is stale). */
export class LeaseLostError extends DroverError {
  override name = 'LeaseLostError';
  readonly jobId: string;

  constructor(jobId: string, options?: ErrorOptions) {
    super(`job ${jobId}: lease lost; the outcome was not written`, options);
    this.jobId = jobId;
  }
}

/** The operation conflicts with the current state of a job (e.g. retrying a job whose uniqkey is live again). */
export class ConflictError extends DroverError {
  override name = 'ConflictError';
}

/** A failure of PostgreSQL or the broker that is expected to pass; the operation can be tried again. */
export class InfrastructureError extends DroverError {
  override name = 'InfrastructureError';
}

/** SQLSTATE classes and codes that mean "try again": connection trouble, serialization, deadlock,
 * shutdown, resource exhaustion. Everything else (constraint violations, syntax) will not pass by itself. */
const RETRYABLE_SQLSTATE_CLASSES = ['08', '53', '57P'];
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01', '55P03', '58000', '58030',
  // statement_timeout (query_canceled) and idle_in_transaction_session_timeout: the server gave
  // up on a statement or a session that was stuck; the operation, tried again, can succeed.
  '57014', '25P03']);

/** AMQP reply codes after which reconnecting can succeed: connection forced (broker restart),
 * resource error, internal error. Codes such as 404 or 406 are bugs in our topology, not weather. */
const RETRYABLE_AMQP_CODES = new Set([320, 506, 541]);

/** Node.js socket errors that mean the peer went away or is not there yet. */
const RETRYABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * True when `err` (or its cause chain) is a PostgreSQL, AMQP or socket error that is worth
 * retrying. PostgreSQL errors carry a five-character SQLSTATE in `code`; amqplib's carry a numeric
 * reply `code`.
 */
export function isRetryableInfrastructureError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Object && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof InfrastructureError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (RETRYABLE_SOCKET_CODES.has(code) || RETRYABLE_SQLSTATES.has(code)) return true;
      if (/^[0-9A-Z]{5}$/.test(code) && RETRYABLE_SQLSTATE_CLASSES.some((c) => code.startsWith(c))) return true;
    } else if (typeof code === 'number' && RETRYABLE_AMQP_CODES.has(code)) {
      return true;
    }
    // pg's own errors carry no code: a dead connection, a round trip abandoned by query_timeout, a
    // connection (or a pooled one) not obtained within connectionTimeoutMillis.
    if (e instanceof Error && /Connection terminated|connection.*closed|Query read timeout|timeout exceeded when trying to connect/i.test(e.message)) return true;
  }
  return false;
}
