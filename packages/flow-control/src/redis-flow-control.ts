/**
 * Fleet-wide flow control in Redis (ioredis): one sorted set per rate-limit bucket (a sliding log
 * of start times) and one per cap bucket (holders scored by lease end). See internal/scripts.ts
 * for the two atomic check-and-takes and why they are Lua.
 *
 * Unreachable Redis fails fast: the offline queue is off, so a call while disconnected rejects at
 * once with FlowControlUnavailable instead of waiting in a queue, and ioredis reconnects on its own
 * in the background; {@link RedisFlowControl.available} tells the caller when to try again.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { FlowControlUnavailable, silentLogger, type Clock, type FlowAnswer, type FlowControl, type Logger, type Place, type RateLimit, type StartsAnswer } from '@drover/core';
import { TAKE_PLACE, TAKE_STARTS } from './internal/scripts.js';

export interface RedisFlowControlOptions {
  /** `redis://…` or `rediss://…`. */
  url: string;
  /** Prefixes every key, so tests and tenants sharing a Redis never share a limit. */
  namespace?: string;
  /**
   * Whose time decides windows and leases. Unset (the fleet's case): Redis's own, one clock for
   * every process. A test gives a ManualClock to move time without sleeping.
   */
  clock?: Clock;
  logger?: Logger;
  /** Bound on one call; past it the call fails as unavailable. Default {@link DEFAULT_COMMAND_TIMEOUT_MS}. */
  commandTimeoutMs?: number;
}

/**
 * Two seconds: a Redis that does not answer a one-key script in that time is as good as gone for a
 * worker deciding whether to start a job, and the job only waits a little longer for it.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
/**
 * Most starts one call takes: the script adds one member per start while Redis serves no one
 * else, so a call stays well under a millisecond. A worker asks for the deliveries it holds, which
 * its slots bound (16 in the benchmark); a caller asking more is granted at most this many.
 */
export const MAX_STARTS_PER_CALL = 1000;
/** Reconnect backoff ceiling: a returning Redis is noticed within a second, without a storm of connects meanwhile. */
const MAX_RECONNECT_DELAY_MS = 1000;

interface FlowCommands {
  droverTakeStarts(key: string, now: number | '', perMs: number, max: number, member: string, count: number, spare: number): Promise<[number, number, number]>;
  droverTakePlace(key: string, now: number | '', cap: number, holder: string, leaseMs: number): Promise<number>;
}

export class RedisFlowControl implements FlowControl {
  readonly #redis: Redis & FlowCommands;
  readonly #prefix: string;
  /** Null: Redis's clock. */
  readonly #clock: Clock | null;
  readonly #logger: Logger;
  #wasReady = false;
  #closed = false;

  constructor(options: RedisFlowControlOptions) {
    this.#clock = options.clock ?? null;
    this.#logger = options.logger ?? silentLogger;
    this.#prefix = `drover:${options.namespace ?? 'drover'}:flow:`;
    const redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      retryStrategy: (times) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
    });
    redis.defineCommand('droverTakeStarts', { numberOfKeys: 1, lua: TAKE_STARTS });
    redis.defineCommand('droverTakePlace', { numberOfKeys: 1, lua: TAKE_PLACE });
    // Without a listener ioredis prints every failed reconnect; state changes are logged once each instead.
    redis.on('error', () => undefined);
    redis.on('ready', () => {
      if (this.#wasReady) this.#logger.info({}, 'flow control: Redis is back');
      this.#wasReady = true;
    });
    redis.on('close', () => {
      if (this.#wasReady) this.#logger.warn({}, 'flow control: lost Redis; limited functions pause (or run unlimited if fail-open) until it returns');
    });
    this.#redis = redis as Redis & FlowCommands;
  }

  /** Resolves once connected; rejects with FlowControlUnavailable if that takes longer than `timeoutMs`. */
  async ready(timeoutMs = 10_000): Promise<void> {
    if (this.#redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#redis.off('ready', onReady);
        reject(new FlowControlUnavailable(`flow control: Redis not reachable within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#redis.once('ready', onReady);
    });
  }

  async takeStart(bucket: string, limit: RateLimit): Promise<FlowAnswer> {
    const { granted, retryAfterMs } = await this.takeStarts(bucket, limit, 1);
    return granted === 1 ? { ok: true } : { ok: false, retryAfterMs };
  }

  async takeStarts(bucket: string, limit: RateLimit, count: number, spare = 0): Promise<StartsAnswer> {
    const asked = Math.min(Math.floor(count), MAX_STARTS_PER_CALL);
    if (!(asked >= 1)) return { granted: 0, retryAfterMs: 0, spare: 0 };
    const extra = Math.max(0, Math.min(Math.floor(spare) || 0, MAX_STARTS_PER_CALL - asked));
    const [granted, wait, spared] = await this.#call(() => this.#redis.droverTakeStarts(`${this.#prefix}rate:${bucket}`, this.#now(), limit.perMs, limit.max, randomUUID(), asked, extra));
    return { granted, retryAfterMs: wait < 0 ? 0 : Math.max(1, wait), spare: spared };
  }

  async takePlace(bucket: string, holder: string, cap: number, leaseMs: number): Promise<FlowAnswer> {
    const wait = await this.#call(() => this.#redis.droverTakePlace(`${this.#prefix}cap:${bucket}`, this.#now(), cap, holder, leaseMs));
    return wait < 0 ? { ok: true } : { ok: false, retryAfterMs: Math.max(1, wait) };
  }

  async renewPlaces(places: readonly Place[], leaseMs: number): Promise<void> {
    if (places.length === 0) return;
    const until = (await this.#timeMs()) + leaseMs;
    const pipeline = this.#redis.pipeline();
    for (const p of places) {
      const key = `${this.#prefix}cap:${p.bucket}`;
      // Plain ZADD, not XX: after a Redis restart the running jobs put their places back, so the cap counts them again.
      pipeline.zadd(key, until, p.holder);
      pipeline.pexpire(key, leaseMs, 'GT');
      pipeline.pexpire(key, leaseMs, 'NX');
    }
    const results = await this.#call(() => pipeline.exec());
    const failed = results?.find(([err]) => err !== null);
    if (failed) throw new FlowControlUnavailable(`flow control: renewing places failed: ${failed[0]!.message}`, { cause: failed[0] });
  }

  async releasePlace(place: Place): Promise<void> {
    await this.#call(() => this.#redis.zrem(`${this.#prefix}cap:${place.bucket}`, place.holder));
  }

  available(): boolean {
    return !this.#closed && this.#redis.status === 'ready';
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wasReady = false;
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  /** The clock's time, or Redis's. */
  async #timeMs(): Promise<number> {
    if (this.#clock) return this.#clock.now().getTime();
    const [seconds, micros] = await this.#call(() => this.#redis.time());
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** The caller's time, or '' for the scripts to read Redis's. */
  #now(): number | '' {
    return this.#clock ? this.#clock.now().getTime() : '';
  }

  async #call<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw new FlowControlUnavailable(`flow control: Redis did not answer: ${(err as Error).message}`, { cause: err });
    }
  }
}
