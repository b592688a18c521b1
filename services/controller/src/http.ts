/**
 * The controller's HTTP API, for producers that hold no database credentials: `POST /jobs` takes
 * one job or `{ "jobs": [...] }`, `GET /jobs/:id` reads one back, `GET /health` says whether the
 * database answers. Bad input is a 400 naming the field, and nothing is written.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { ValidationError, type JobStore, type Logger, type NewJob } from '@drover/core';

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
