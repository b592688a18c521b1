/**
 * The controller's HTTP API, for producers and operators that hold no database credentials (and
 * for the CLI against an embedded instance, whose database only its own process can open):
 *   POST /jobs                 one job, or { "jobs": [...] }        GET /jobs/:id      one job with its failure log
 *   GET  /jobs?state=&funcname=&arg=&limit=&before=                 GET /stats         counts per function and state
 *   POST /jobs/:id/retry | /cancel | /reschedule { "when": … }      GET /health        whether the database answers
 * Bad input is a 400 naming the field, and nothing is written.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { ValidationError, type FindJobsQuery, type JobState, type JobStore, type Json, type Logger, type NewJob, type RescheduleWhen } from '@drover/core';

export interface HttpOptions {
  store: JobStore;
  logger: Logger;
  /** Extra health facts (relay totals, broker state). */
  health?: () => Record<string, unknown>;
  /** Request bodies above this are refused; a batch of 1,000 small jobs fits well inside 10 MiB. */
  bodyLimit?: number;
}

const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;
/** One request inserts at most this many jobs in one statement, to keep it short. */
const MAX_BATCH = 10_000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function createHttpApi(options: HttpOptions): FastifyInstance {
  const app = Fastify({ bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT, logger: false });
  const log = options.logger.child({ component: 'http' });

  app.setErrorHandler((err: Error & { statusCode?: number }, _request, reply) => {
    if (err instanceof ValidationError) return reply.code(400).send({ error: { field: err.field, message: err.message } });
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: { message: err.message } });
    log.error({ err: err.message }, 'request failed');
    return reply.code(500).send({ error: { message: 'internal error' } });
  });

  app.post('/jobs', async (request, reply) => {
    const body = request.body;
    if (isObject(body) && 'jobs' in body) {
      if (!Array.isArray(body.jobs)) throw new ValidationError('jobs', 'must be an array of jobs');
      if (body.jobs.length > MAX_BATCH) throw new ValidationError('jobs', `must hold at most ${MAX_BATCH} jobs`);
      const results = await options.store.insertMany(body.jobs as NewJob[]);
      return reply.code(201).send({ jobs: results });
    }
    if (!isObject(body)) throw new ValidationError('body', 'must be a job object or { "jobs": [...] }');
    return reply.code(201).send(await options.store.insert(body as unknown as NewJob));
  });

  app.get<{ Params: { id: string } }>('/jobs/:id', async (request, reply) => {
    const job = await options.store.getJob(request.params.id);
    if (!job) return reply.code(404).send({ error: { message: `no job ${request.params.id}` } });
    return job;
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/jobs', async (request) => {
    const q = request.query;
    const one = (key: string): string | undefined => (Array.isArray(q[key]) ? (q[key] as string[])[0] : (q[key] as string | undefined));
    const query: FindJobsQuery = {};
    if (q.state !== undefined) query.states = (Array.isArray(q.state) ? q.state : [q.state]) as JobState[];
    const funcname = one('funcname');
    if (funcname !== undefined) query.funcname = funcname;
    const arg = one('arg');
    if (arg !== undefined) {
      try {
        query.argContains = JSON.parse(arg) as Json;
      } catch {
        throw new ValidationError('arg', 'must be JSON');
      }
    }
    const limit = one('limit');
    if (limit !== undefined) query.limit = /^\d+$/.test(limit) ? Number(limit) : Number.NaN;
    const before = one('before');
    if (before !== undefined) query.beforeId = before;
    return options.store.findJobs(query);
  });

  app.get('/stats', async () => options.store.counts());

  app.post<{ Params: { id: string } }>('/jobs/:id/retry', async (request, reply) => {
    const job = await options.store.retry(request.params.id);
    return job ?? reply.code(404).send({ error: { message: `job ${request.params.id} is not a failed or cancelled job` } });
  });

  app.post<{ Params: { id: string } }>('/jobs/:id/cancel', async (request, reply) => {
    const cancelled = await options.store.cancel(request.params.id);
    return cancelled ? { id: request.params.id, cancelled } : reply.code(404).send({ error: { message: `job ${request.params.id} is not live` } });
  });

  app.post<{ Params: { id: string }; Body: { when?: unknown } }>('/jobs/:id/reschedule', async (request, reply) => {
    const raw = (request.body as { when?: unknown } | undefined)?.when;
    const when = raw === 'never' || (typeof raw === 'string' && raw.startsWith('+')) ? (raw as RescheduleWhen) : typeof raw === 'string' ? new Date(raw) : raw;
    const job = await options.store.reschedule(request.params.id, when as RescheduleWhen);
    return job ?? reply.code(404).send({ error: { message: `job ${request.params.id} is not waiting` } });
  });

  app.get('/health', async (_request, reply) => {
    try {
      await options.store.nextDue();
      return { status: 'ok', ...options.health?.() };
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', error: (err as Error).message });
    }
  });

  return app;
}
