/**
 * @drover/client — enqueue jobs straight into PostgreSQL (also inside your own transaction), read
 * and find them, cancel and retry them, and `call`: enqueue and wait for the result.
 *
 * @example
 * ```ts
 * import { createClient } from '@drover/client';
 *
 * const drover = createClient({ databaseUrl: process.env.DATABASE_URL });
 * await db.query('BEGIN');
 * await db.query('INSERT INTO orders ...');
 * await drover.enqueue({ funcname: 'email.receipt', arg: { orderId } }, { tx: db });
 * await db.query('COMMIT');                      // the job exists only if the order does
 * const total = await drover.call({ funcname: 'math.add', arg: [1, 2] }, { timeoutMs: 5000 });
 * await drover.createTrigger({ spec: '@cron 0 0 3 * * *', funcname: 'report.nightly', arg: { full: true } });
 * ```
 */
export { ApiAccessError, HttpClientAdmin, HttpJobApi, HttpTriggerApi, HttpWorkerList, type ClientAdmin, type EventApi, type HttpApiOptions, type JobApi, type TriggerApi, type TriggerWithUrl } from './http-api.js';
export { HttpWorkflowApi, type JobView, type ListedWorkflowUnit, type WorkflowApi, type WorkflowLoad, type WorkflowStepView } from './http-workflows.js';
export { CallTimeoutError, Client, JobFailedError, awaitJobResult, createClient, type ClientOptions, type ClientStore, type EnqueueOptions } from './client.js';
export type { EnqueueRetryOptions } from './enqueue-retry.js';
