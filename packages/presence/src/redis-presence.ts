/**
 * Presence in Redis: each worker is one key holding its record, written with a TTL of its
 * heartbeat's life (`SET … PX`), so Redis itself forgets a worker that stops beating; nothing here
 * sweeps. A sorted set beside the keys indexes their ids (scored by when each should expire), so
 * `list` reads the fleet in one round trip instead of a SCAN of the keyspace; an id whose key has
 * expired is dropped from it when seen, and ids long past their score when anyone announces.
 *
 * Unreachable Redis: commands fail fast instead of queueing (`maxRetriesPerRequest: 0`: a command
 * waiting for the connection is failed at the first reconnection attempt that fails, and
 * `commandTimeout` bounds one that got no answer), and ioredis reconnects in the background for as
 * long as it takes, so presence resumes without a restart. The callers' heartbeats log and go on.
 */
import { Redis } from 'ioredis';
import { ValidationError, silentLogger, systemClock, validateWorkerPresence, type Clock, type LiveWorker, type Logger, type Presence, type WorkerPresence } from '@drover/core';
import { decodeRecord, encodeRecord } from './records.js';

export interface RedisPresenceOptions {
  /** redis:// or rediss:// URL (REDIS_URL). */
  url: string;
  /** Prefixes every key (`<namespace>:presence:…`), as it prefixes the schema and the queues: namespaces never see each other's workers. */
  namespace: string;
  logger?: Logger;
  /** Writes `seenAt`; Redis's own clock decides expiry. */
  clock?: Clock;
  /** A command with no answer after this long fails. Default {@link DEFAULT_COMMAND_TIMEOUT_MS}. */
  commandTimeoutMs?: number;
  /** The name the connection shows in `CLIENT LIST`. */
  connectionName?: string;
}

/**
 * Two seconds: a healthy Redis answers in well under a millisecond here, and a heartbeat that
 * hangs longer would delay the next one (beats run one at a time) past the 5 s interval.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;
/**
 * An index entry this long past its score is dropped on announce. The scores come from the
 * writers' clocks, so the slack must exceed any clock skew between hosts, or a live worker on a
 * host running behind would lose its entry between beats; an hour covers any sane skew, and an
 * hour of vanished workers' ids is a few kilobytes. The key's TTL, not this, decides who is listed.
 */
const INDEX_SLACK_MS = 3_600_000;
/** Backoff between reconnection attempts: 50 ms more each time, at most 2 s (ioredis's own default curve, stated here because the outage behaviour depends on it). */
const reconnectDelay = (attempt: number): number => Math.min(attempt * 50, 2_000);

const NAMESPACE_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

export class RedisPresence implements Presence {
  readonly #redis: Redis;
  readonly #clock: Clock;
  readonly #index: string;
  readonly #prefix: string;
  readonly #logger: Logger;
  #down = false;

  constructor(options: RedisPresenceOptions) {
    if (!NAMESPACE_PATTERN.test(options.namespace)) throw new ValidationError('namespace', 'must be 1 to 40 characters of a-z, 0-9 and _, starting with a letter');
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (err) {
      throw new ValidationError('url', 'must be a redis:// or rediss:// URL', { cause: err });
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ValidationError('url', 'must be a redis:// or rediss:// URL');
    this.#clock = options.clock ?? systemClock;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'presence' });
    this.#prefix = `${options.namespace}:presence:worker:`;
    this.#index = `${options.namespace}:presence:workers`;
    this.#redis = new Redis(options.url, {
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      retryStrategy: reconnectDelay,
      ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    });
    // Without a listener ioredis prints every failed reconnection; one line per outage is enough.
    this.#redis.on('error', (err: Error) => {
      if (this.#down) return;
      this.#down = true;
      this.#logger.warn({ err: err.message }, 'Redis unreachable; presence is stale until it returns (jobs are not affected)');
    });
    this.#redis.on('ready', () => {
      if (this.#down) this.#logger.info({}, 'Redis reachable again');
      this.#down = false;
    });
  }

  async announce(worker: WorkerPresence, ttlMs: number): Promise<void> {
    validateWorkerPresence(worker, ttlMs);
    const now = this.#clock.now();
    const result = await this.#redis
      .multi()
      .set(this.#prefix + worker.id, encodeRecord(worker, now), 'PX', ttlMs)
      .zadd(this.#index, now.getTime() + ttlMs, worker.id)
      .zremrangebyscore(this.#index, '-inf', now.getTime() - INDEX_SLACK_MS)
      .exec();
    const failed = result?.find(([err]) => err !== null);
    if (failed?.[0]) throw new Error(`presence announce of ${worker.id} failed: ${failed[0].message}`, { cause: failed[0] });
  }

  async withdraw(id: string): Promise<void> {
    await this.#redis.multi().del(this.#prefix + id).zrem(this.#index, id).exec();
  }

  async list(): Promise<LiveWorker[]> {
    const ids = await this.#redis.zrange(this.#index, 0, -1);
    if (ids.length === 0) return [];
    const reads = this.#redis.pipeline();
    for (const id of ids) reads.get(this.#prefix + id).pttl(this.#prefix + id);
    const answers = (await reads.exec()) ?? [];
    const now = this.#clock.now().getTime();
    const live: LiveWorker[] = [];
    const gone: string[] = [];
    for (const [i, id] of ids.entries()) {
      const [getErr, text] = answers[2 * i] ?? [null, null];
      const [, pttl] = answers[2 * i + 1] ?? [null, -2];
      if (getErr) throw new Error(`presence read of ${id} failed: ${getErr.message}`, { cause: getErr });
      if (typeof text !== 'string' || typeof pttl !== 'number' || pttl < 0) {
        gone.push(id);
        continue;
      }
      const decoded = decodeRecord(text);
      if (decoded) live.push({ ...decoded.worker, seenAt: decoded.seenAt, expiresAt: new Date(now + pttl) });
    }
    // Expired by Redis: their index entries go too. Best effort; a failure here hides nobody.
    if (gone.length > 0) await this.#redis.zrem(this.#index, ...gone).catch(() => undefined);
    return live.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Closes the connection; with Redis away, drops it at once instead of waiting for a QUIT that cannot be answered. */
  async close(): Promise<void> {
    if (this.#redis.status === 'ready') {
      await this.#redis.quit().catch(() => this.#redis.disconnect());
    } else {
      this.#redis.disconnect();
    }
  }
}

export function createRedisPresence(options: RedisPresenceOptions): RedisPresence {
  return new RedisPresence(options);
}
