/**
 * What the chaos run and the soak share: the run's namespace and environment, the fleet's start
 * and the producer's steady stream (ids it was told committed, per phase).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import type pg from 'pg';
import { exchangeName, queueName } from '@drover/broker';
import { createClient, type Client } from '@drover/client';
import { createPgPool, createPgStore, type PgJobStore } from '@drover/store';
import { CHAOS_FUNCNAME } from './handlers.js';

/** The services, from the same variables as the test suite's. */
export const DATABASE_URL = process.env.DROVER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const AMQP_URL = process.env.DROVER_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A run's namespace, folder and handles. */
export interface RunContext {
  namespace: string;
  dir: string;
  env: Record<string, string>;
  pool: pg.Pool;
  store: PgJobStore;
  client: Client;
  close(keep: boolean): Promise<void>;
}

/** A fresh namespace and folder for one run (migrated by the caller through `drover migrate`). */
export function createRunContext(prefix: string): RunContext {
  const namespace = `${prefix}_${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), `drover-${prefix}-`));
  const env = {
    DATABASE_URL,
    AMQP_URL,
    DROVER_NAMESPACE: namespace,
    DROVER_HTTP_PORT: '0', DROVER_RPC_PORT: '0',
    // A job taken back after its lease retries after ~200 ms, and the scheduler looks every 200 ms:
    // recovery is measured in seconds, not the production defaults' minutes.
    DROVER_RETRY_BASE_MS: '200',
    DROVER_SCHEDULER_POLL_MS: '200',
    // A message lost without a reconnection signal comes back within 5 s, not 5 minutes.
    DROVER_REDISPATCH_AFTER_MS: '5000',
    LOG_LEVEL: 'info',
    CHAOS_RUN_DIR: dir,
  };
  const pool = createPgPool({ connectionString: DATABASE_URL, namespace, max: 2 });
  pool.on('error', () => undefined);
  const store = createPgStore({ connectionString: DATABASE_URL, namespace, max: 4 });
  return {
    namespace,
    dir,
    env,
    pool,
    store,
    client: createClient({ store }),
    close: async (keep) => {
      if (!keep) {
        await pool.query(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`).catch(() => undefined);
        const conn = await amqp.connect(AMQP_URL).catch(() => null);
        if (conn) {
          const ch = await conn.createChannel();
          await ch.deleteQueue(queueName(namespace, CHAOS_FUNCNAME)).catch(() => undefined);
          await ch.deleteExchange(exchangeName(namespace)).catch(() => undefined);
          await conn.close().catch(() => undefined);
        }
      }
      await store.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

/**
 * Enqueues `rate` jobs a second in ticks of 100 ms, each tagged with the current phase; an enqueue
 * that fails is not retried (a retry could duplicate a job whose commit went through) and counted.
 */
export class Producer {
  readonly committed = new Map<string, string[]>();
  failures = 0;
  phase: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #inFlight = 0;
  /** Resolved when no batch is in flight; see {@link Producer.settled}. */
  #idle: (() => void)[] = [];
  readonly #client: Client;
  readonly #perTick: number;
  readonly #jobMs: () => number;

  /** `jobMs` says how long each job's handler works. */
  constructor(client: Client, rate: number, jobMs: () => number) {
    this.#client = client;
    this.#perTick = Math.max(1, Math.round(rate / 10));
    this.#jobMs = jobMs;
  }

  start(): void {
    // Ten ticks a second: a steady stream rather than one burst a second.
    // tick() counts its own failures and never rejects; the catch only keeps a bug from being unhandled.
    this.#timer = setInterval(() => void this.tick().catch(() => this.failures++), 100);
  }

  /** One tick's batch; skipped while two batches are still in flight (the database is slow or down). */
  async tick(): Promise<void> {
    const phase = this.phase;
    if (!phase || this.#inFlight >= 2) return;
    this.#inFlight++;
    try {
      await this.enqueue(phase, this.#perTick);
    } catch {
      this.failures++;
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /**
   * Resolves once no batch is in flight. After the phase is cleared, a batch of that phase may
   * still commit: a drain that looked before it did would see no live job and count its jobs
   * lost, although they are about to be inserted and run.
   */
  settled(): Promise<void> {
    return this.#inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Enqueues `n` jobs of `phase`; returns their ids once committed. */
  async enqueue(phase: string, n: number, ms?: number): Promise<string[]> {
    const ids = (await this.#client.enqueueMany(Array.from({ length: n }, () => ({ funcname: CHAOS_FUNCNAME, arg: { phase, ms: ms ?? this.#jobMs() } })))).map((r) => r.id);
    const list = this.committed.get(phase) ?? [];
    list.push(...ids);
    this.committed.set(phase, list);
    return ids;
  }

  /** Stops the stream and waits for batches in flight. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.phase = null;
    await this.settled();
  }
}

/** Polls until `condition` holds or `timeoutMs` passes; resolves with whether it held. */
export async function until(condition: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Live jobs of `phase` (or of every phase): zero once the stream drained. */
export async function liveCount(pool: pg.Pool, phase?: string): Promise<number> {
  const { rows } = phase
    ? await pool.query<{ n: string }>("SELECT count(*) AS n FROM jobs WHERE arg->>'phase' = $1", [phase])
    : await pool.query<{ n: string }>('SELECT count(*) AS n FROM jobs');
  return Number(rows[0]?.n ?? 0);
}
