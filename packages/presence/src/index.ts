/**
 * @drover/presence — the worker presence port's adapters: `RedisPresence` (ioredis; one key per
 * worker with a TTL, and a sorted set indexing them) and `MemoryPresence` (one process, for
 * embedded mode). Both pass one conformance suite (test/conformance.ts). Presence is disposable:
 * no job depends on it.
 *
 * @example
 * ```ts
 * import { createRedisPresence } from '@drover/presence';
 * import { createWorker } from '@drover/worker';
 *
 * const presence = createRedisPresence({ url: 'redis://127.0.0.1:6379', namespace: 'drover' });
 * const worker = createWorker({ store, broker, functions, presence: { presence } });
 * await worker.start(); // announced now, and every 5 s
 * const live = await presence.list(); // [{ id, host, pid, functions, slots, running, … }]
 * ```
 */
export { MemoryPresence, createMemoryPresence } from './memory-presence.js';
export { DEFAULT_COMMAND_TIMEOUT_MS, RedisPresence, createRedisPresence, type RedisPresenceOptions } from './redis-presence.js';
