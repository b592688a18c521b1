/**
 * The controller's HTTP API, for producers and operators that hold no database credentials (and
 * for the CLI against an embedded instance, whose database only its own process can open):
 *   POST /jobs                 one job (`tag`: a workflow version), or { "jobs": [...] }   GET /jobs/:id   one job with its failure log
 *   GET  /jobs?state=&funcname=&arg=&limit=&before=                 GET /stats         counts per function and state
 *   POST /jobs/:id/retry | /cancel | /reschedule { "when": … }      GET /health        ok or not, nothing more
 *   GET  /status               health with the relay's figures      /clients…          the client registry (http-clients.ts)
 *   POST /events               raise an event (http-events.ts)      POST /webhooks/:id a @webhook's URL, no token (http-webhooks.ts)
 *   /triggers…                 triggers: create, list, show, change, delete, launch, their jobs (http-triggers.ts)
 *   /workflows…                workflow units: load, list, show (http-workflows.ts)
 *   GET  /workers              the live workers (presence)
 * Every request but /health carries a client's token (see http-guard.ts), and each route checks
 * the client's scopes: enqueueing needs `call` on each job's function, and the jobs are the
 * client's own; reading, retrying, cancelling or rescheduling a job needs the job to be the
 * client's own (see job-access.ts); listing jobs lists the client's own; the counts, /status, /workers and
 * the clients need `admin`, which may also do everything else, on every job.
 * Every input is parsed before the store sees it (`@drover/core`'s input parsers, shared with the
 * CLI): bad input is a 400 naming the field as the caller sent it, and nothing is written. Every
 * refusal has one shape, `{ error: { field?, message } }` (see http-errors.ts).
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import {
  ConflictError,
  ValidationError,
  authorizes,
  parseJobFilters,
  parseJobId,
  parseRescheduleWhen,
  validateWorkflowTag,
  type AdminStore,
  type ApiClientStore,
  type Logger,
  type CallerStore,
  type EventStore,
  type Presence,
  type NewJob,
  type SchedulerStore,
  type TriggerStore,
  type WorkflowRunStore,
  type WorkflowUnitStore,
} from '@drover/core';
import type { Authenticate } from './auth/authenticate.js';
import { createAuthenticator } from './auth/authenticate.js';
import { FailureThrottle } from './auth/throttle.js';
import { clientRoutes } from './http-clients.js';
import { eventRoutes } from './http-events.js';
import { webhookRoutes } from './http-webhooks.js';
import { isObject, checkEmptyBody, requireCall } from './http-checks.js';
import { HttpRefusal, clientErrorHandler, createErrorHandler, errorBody, frameworkErrors, notFound } from './http-errors.js';
import { clientOf, installGuard } from './http-guard.js';
import { triggerRoutes } from './http-triggers.js';
import { workflowRoutes } from './http-workflows.js';
import { mayActOnJob } from './job-access.js';
import type { TrustProxy } from './trusted-proxies.js';

/**
 * What the API needs of the store: inserts as a client's own and whose a job is, an operator's
 * reads and changes, and `nextDue` for `/health`, which asks it only to learn whether the database
 * answers (two index lookups on the live table and one on the triggers' due index; `counts` would
 * scan).
 */
export type ApiStore = Pick<CallerStore, 'insertFor' | 'insertManyFor' | 'ownedBy'> & AdminStore & Pick<SchedulerStore, 'nextDue'> & EventStore & TriggerStore & WorkflowUnitStore & Pick<WorkflowRunStore, 'workflowSteps' | 'jsonSchemas'>;

export interface HttpOptions {
  store: ApiStore;
  /** The namespace's API clients: every request but /health authenticates against them. */
  clients: ApiClientStore;
  logger: Logger;
  /** How credentials are checked; by default against `clients`, with {@link HttpOptions.throttle}. */
  authenticate?: Authenticate;
  /** Authentication failures per address (by default; see `authenticate`). A fresh one by default. */
  throttle?: FailureThrottle;
  /**
   * The webhooks' failures per address (unknown ids, bad signatures), apart from authentication's:
   * anyone can make a service post to a webhook URL, and a shared sender's address must not lose
   * its API tokens for it (nor the reverse). A fresh one by default.
   */
  webhookThrottle?: FailureThrottle;
  /** Webhook bodies above this are refused with 413 (default 256 KiB: DEFAULT_WEBHOOK_BODY_LIMIT). */
  webhookBodyLimit?: number;
  /** Host names the API answers to besides loopback names and IP addresses (see http-guard.ts). */
  allowedHosts?: readonly string[];
  /**
   * The reverse proxies whose `X-Forwarded-For` names the client (see trusted-proxies.ts): the
   * address failures are counted against. Unset, every request is its socket's peer.
   */
  trustProxy?: TrustProxy;
  /** Worker presence, for `GET /workers`; unset, that route answers 503. */
  workers?: Pick<Presence, 'list'>;
  /** Figures for /status (relay totals, broker state); /health never shows them. */
  health?: () => Record<string, unknown>;
  /** Request bodies above this are refused; a batch of 1,000 small jobs fits well inside 10 MiB. */
  bodyLimit?: number;
  /** A request whose headers and body have not all arrived after this long is answered 408 and its connection closed. */
  requestTimeoutMs?: number;
  /** The same for the request line and headers alone. */
  headersTimeoutMs?: number;
}

const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;
/** One request inserts at most this many jobs in one statement, to keep it short. */
const MAX_BATCH = 10_000;
/**
 * A whole request (a 10 MiB body at most) must arrive within 60 s: that asks only ~170 KiB/s of a
 * client, and a connection that sent part of a body and stopped is not held open for ever.
 * Fastify's default is no limit at all.
 */
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Headers are a few hundred bytes: 10 s is lavish for any client that is really sending them. */
const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/**
 * How often Node looks for requests past those timeouts (its default is 30 s, which would let a
 * stalled request live half a minute past its deadline). A walk over the open connections each
 * second costs nothing at this API's scale.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;


/** `{ "jobs": [...] }` is a batch and holds nothing else; any other object is one job. */
function parseInsertBody(body: unknown): { one: NewJob; tag: string | null } | { many: NewJob[] } {
  if (!isObject(body)) throw new ValidationError('body', 'must be a job object or { "jobs": [...] }');
  if (!Object.hasOwn(body, 'jobs')) {
    // `tag`, beside the job's fields, asks for a workflow version (JSON-RPC's vtag): the newest
    // version carrying it, else the newest default. One job at a time, as create_job takes it.
    const { tag, ...job } = body;
    return { one: job as unknown as NewJob, tag: validateWorkflowTag(tag, 'tag') };
  }
  const extra = Object.keys(body).find((k) => k !== 'jobs');
  if (extra !== undefined) throw new ValidationError(extra, 'is not a field of a batch, which is { "jobs": [...] } and nothing else');
  if (!Array.isArray(body.jobs)) throw new ValidationError('jobs', 'must be an array of jobs');
  if (body.jobs.length > MAX_BATCH) throw new ValidationError('jobs', `must hold at most ${MAX_BATCH} jobs`);
  return { many: body.jobs as NewJob[] };
}



/** `{ "when": … }` and nothing else. */
function parseRescheduleBody(body: unknown): ReturnType<typeof parseRescheduleWhen> {
  if (body === undefined || body === null) throw new ValidationError('when', "is required: { \"when\": \"never\" | \"+N\" | \"<ISO 8601 date-time>\" }");
  if (!isObject(body)) throw new ValidationError('body', 'must be { "when": … }');
  const extra = Object.keys(body).find((k) => k !== 'when');
  if (extra !== undefined) throw new ValidationError(extra, 'is not a field of a reschedule, which is { "when": … }');
  return parseRescheduleWhen(body.when, 'when');
}

/** Creates the API (not listening yet). */
export function createHttpApi(options: HttpOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: false,
    requestTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    http: { headersTimeout: options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
    // A job's arg is data: JSON.parse makes `__proto__` and `constructor.prototype` plain own keys,
    // stored and returned as sent, never merged into an object. Fastify's default ('error') answered
    // them with a 400 that named no field, and the client library stores them as data anyway.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    frameworkErrors,
    clientErrorHandler,
    // `request.ip` (what the guard throttles) is then the forwarded client's; Fastify also takes
    // X-Forwarded-Host and -Proto from a trusted proxy, which no route reads (the Host guard reads
    // the Host header itself).
    ...(options.trustProxy ? { trustProxy: options.trustProxy } : {}),
  });
  const log = options.logger.child({ component: 'http' });
  const store = options.store;
  const throttle = options.throttle ?? new FailureThrottle();
  const authenticate = options.authenticate ?? createAuthenticator(options.clients, throttle);

  app.setErrorHandler(createErrorHandler(log));
  app.setNotFoundHandler(notFound);
  installGuard(app, { authenticate, ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}) });

  /**
   * A job out of the client's reach (see job-access.ts) is answered as if it did not exist (404,
   * like an unknown id): a 403 would tell a client which ids exist.
   */
  const requireJobScope = async (request: FastifyRequest, id: string): Promise<void> => {
    if (authorizes(clientOf(request), 'admin')) return;
    const job = await store.getJob(id);
    if (job && !(await mayActOnJob(store, clientOf(request), job))) throw new HttpRefusal(404, `no job ${id}`);
  };

  app.post('/jobs', async (request, reply) => {
    const body = parseInsertBody(request.body);
    // A funcname that is not a string is left to the store's validation, which names the field.
    const who = clientOf(request).who;
    for (const job of 'many' in body ? body.many : [body.one]) {
      if (isObject(job) && typeof job.funcname === 'string') requireCall(request, job.funcname, 'enqueue');
      // Idempotency keys are the client's own: the same key from another client is another
      // request, and must neither be answered with that client's job id nor block this one.
      // A name holds no ':', so the prefix cannot be forged.
      if (isObject(job) && typeof job.idempotencyKey === 'string') job.idempotencyKey = `${who}:${job.idempotencyKey}`;
    }
    if ('many' in body) return reply.code(201).send({ jobs: await store.insertManyFor(who, body.many) });
    return reply.code(201).send(await store.insertFor(who, body.one, body.tag === null ? {} : { workflowTag: body.tag }));
  });

  app.get<{ Params: { id: string } }>('/jobs/:id', async (request, reply) => {
    const id = parseJobId(request.params.id);
    const job = await store.getJob(id);
    const visible = job && (await mayActOnJob(store, clientOf(request), job));
    if (!visible) return reply.code(404).send(errorBody(`no job ${id}`));
    // A workflow job's step log rides along; every other job answers exactly as before.
    const steps = await store.workflowSteps(id);
    return steps.length === 0 ? job : { ...job, steps };
  });

  app.get('/jobs', async (request) => {
    const query = parseJobFilters(request.query as Record<string, unknown>);
    const client = clientOf(request);
    if (authorizes(client, 'admin')) return store.findJobs(query);
    if (query.funcname !== undefined) requireCall(request, query.funcname, 'list jobs');
    // Its own jobs only; those of a function it may no longer call are left out, as a read of one would be refused.
    const own = await store.findJobs({ ...query, owner: client.who });
    return own.filter((job) => authorizes(client, 'call', job.funcname));
  });

  app.get('/stats', async (request) => {
    if (!authorizes(clientOf(request), 'admin')) throw new HttpRefusal(403, 'only a client with the admin scope may read the counts');
    return store.counts();
  });

  app.post<{ Params: { id: string } }>('/jobs/:id/retry', async (request, reply) => {
    const id = parseJobId(request.params.id);
    checkEmptyBody(request.body);
    await requireJobScope(request, id);
    const job = await store.retry(id);
    if (job) return job;
    const current = await store.getJob(id);
    if (!current) return reply.code(404).send(errorBody(`no job ${id}`));
    throw new ConflictError(`job ${id} is ${current.state}; only a failed or cancelled job can be retried`);
  });

  app.post<{ Params: { id: string } }>('/jobs/:id/cancel', async (request, reply) => {
    const id = parseJobId(request.params.id);
    checkEmptyBody(request.body);
    await requireJobScope(request, id);
    const cancelled = await store.cancel(id);
    return cancelled ? { id, cancelled } : reply.code(404).send(errorBody(`job ${id} is not live`));
  });

  app.post<{ Params: { id: string } }>('/jobs/:id/reschedule', async (request, reply) => {
    const id = parseJobId(request.params.id);
    const when = parseRescheduleBody(request.body);
    await requireJobScope(request, id);
    const job = await store.reschedule(id, when);
    return job ?? reply.code(404).send(errorBody(`job ${id} is not waiting`));
  });

  // Open to anyone who reaches the port (a load balancer's probe has no token): ok or not, and
  // not why, which would name the database's host or its error.
  app.get('/health', async (_request, reply) => {
    try {
      await store.nextDue();
      return { status: 'ok' };
    } catch {
      return reply.code(503).send({ status: 'unavailable' });
    }
  });

  app.get('/status', async (request, reply) => {
    if (!authorizes(clientOf(request), 'admin')) throw new HttpRefusal(403, 'only a client with the admin scope may read the status');
    try {
      await store.nextDue();
      return { status: 'ok', ...options.health?.() };
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', error: (err as Error).message, ...options.health?.() });
    }
  });

  // Presence is disposable (Redis): its absence or outage is a 503 here, and nothing else in the API depends on it.
  app.get('/workers', async (request, reply) => {
    if (!authorizes(clientOf(request), 'admin')) throw new HttpRefusal(403, 'only a client with the admin scope may list the workers');
    if (!options.workers) return reply.code(503).send(errorBody('worker presence is not configured on this controller (REDIS_URL is not set)'));
    try {
      return await options.workers.list();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'listing the workers failed');
      return reply.code(503).send(errorBody(`the presence registry is unreachable: ${(err as Error).message}`));
    }
  });

  clientRoutes(app, options.clients);
  eventRoutes(app, store);
  webhookRoutes(app, { store, throttle: options.webhookThrottle ?? new FailureThrottle(), ...(options.webhookBodyLimit === undefined ? {} : { bodyLimit: options.webhookBodyLimit }) });
  triggerRoutes(app, store);
  workflowRoutes(app, store);

  return app;
}
