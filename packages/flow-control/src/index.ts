/**
 * @drover/flow-control — fleet-wide rate limits and per-key concurrency caps behind the
 * {@link FlowControl} port of @drover/core: Redis for a fleet, memory for one process.
 *
 * @example
 * ```ts
 * import { RedisFlowControl } from '@drover/flow-control';
 * import { createWorker } from '@drover/worker';
 *
 * const flowControl = new RedisFlowControl({ url: 'redis://127.0.0.1:6379', namespace: 'prod' });
 * const worker = createWorker({
 *   store, broker, flowControl,
 *   functions: {
 *     'email.send': { handler: send, rateLimit: { max: 100, perMs: 1000 } },             // 100 starts/s, fleet-wide
 *     'sync.pull': { handler: pull, concurrency: { perKey: 2, key: 'customerId' } },     // 2 at a time per customer
 *   },
 * });
 * ```
 */
export { MemoryFlowControl } from './memory-flow-control.js';
export { DEFAULT_COMMAND_TIMEOUT_MS, MAX_STARTS_PER_CALL, RedisFlowControl, type RedisFlowControlOptions } from './redis-flow-control.js';
