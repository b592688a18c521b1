/**
 * The HTTP API's one error shape, `{ error: { field?, message } }`, for every refusal: the
 * routes' own (bad input, conflicts), the framework's (unknown route, bad URL encoding, wrong
 * content type, body too large or not JSON) and Node's HTTP parser's (headers too large, a
 * request that took too long). A caller parses one shape whatever went wrong.
 */
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, ValidationError, type Logger } from '@drover/core';

/** The body of every error answer. */
export interface ErrorBody {
  error: { field?: string; message: string };
}

/** An error body; `field` names what the caller sent, as the caller spelled it. */
export function errorBody(message: string, field?: string): ErrorBody {
  return { error: field === undefined ? { message } : { field, message } };
}

/** A route's refusal with a status of its own, such as 403 for a client acting outside its scopes. */
export class HttpRefusal extends Error {
  override name = 'HttpRefusal';
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The SQLSTATE of a PostgreSQL error anywhere in the cause chain. */
function sqlState(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e instanceof Object && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return null;
}

/** Which part of the request a framework error is about, by Fastify's code. */
const FRAMEWORK_FIELDS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'content-type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'content-length',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'body',
  FST_ERR_CTP_INVALID_TYPE: 'content-type',
  FST_ERR_BAD_URL: 'url',
  FST_ERR_MAX_PARAM_LENGTH: 'id',
};

/**
 * Maps any error a route or the framework raised to a status and the error shape: bad input 400
 * naming the field, a conflict with a job's state 409, a value PostgreSQL refused as data
 * (SQLSTATE class 22: validation should have caught it, but it is still the caller's input) 400,
 * anything else 500, logged, with no detail leaked.
 */
export function createErrorHandler(log: Logger) {
  return (err: FastifyError | Error, _request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (err instanceof ValidationError) return reply.code(400).send(errorBody(err.message.replace(`${err.field}: `, ''), err.field));
    if (err instanceof ConflictError) return reply.code(409).send(errorBody(err.message));
    if (err instanceof HttpRefusal) return reply.code(err.status).send(errorBody(err.message, err.field));
    const state = sqlState(err);
    if (state?.startsWith('22')) {
      log.warn({ err: err.message, sqlState: state }, 'the database refused a value that validation let through');
      return reply.code(400).send(errorBody(`the database refused a value: ${err.message}`));
    }
    const { statusCode, code } = err as FastifyError;
    if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
      // Fastify's JSON parse errors are SyntaxErrors with a status but no FST_ code.
      const field = (code && FRAMEWORK_FIELDS[code]) ?? (err instanceof SyntaxError ? 'body' : undefined);
      return reply.code(statusCode).send(errorBody(err.message, field));
    }
    log.error({ err: err.message }, 'request failed');
    return reply.code(500).send(errorBody('internal error'));
  };
}

/**
 * Fastify's bad-URL and over-long-parameter answers: the path's only parameter is a job id.
 * Returns nothing: Fastify's hook is typed void, and a reply is a thenable it would not await.
 */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.code(400).send(errorBody('must be a job id: a positive integer (at most 2^63-1), as a string', 'id'));
    return;
  }
  void reply.code(400).send(errorBody('is not valid percent-encoding', FRAMEWORK_FIELDS[err.code] ?? 'url'));
}

/** Unknown routes and methods. */
export function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send(errorBody(`no route ${request.method} ${request.url.split('?')[0]}`));
}

/**
 * Errors from Node's HTTP parser, before any route runs: a request too slow to arrive (408),
 * headers too large (431), a malformed request (400). The connection is closed after the answer,
 * since what is left on it cannot be trusted to start a request.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const message = status === 408 ? 'the request did not arrive in time' : status === 431 ? 'the request line and headers are too large' : 'the request is not valid HTTP';
  if (!socket.writable) {
    socket.destroy(err);
    return;
  }
  const body = JSON.stringify(errorBody(message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
