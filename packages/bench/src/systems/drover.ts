/**
 * Drover as its docs say to run it: the relay in a `drover controller` process of its own, workers
 * consuming RabbitMQ with `slots` = the concurrency, outcomes written to PostgreSQL fenced by the
 * grab token. Durable all the way: PostgreSQL commits with its default synchronous_commit, messages
 * are persistent and confirmed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import pg from 'pg';
import { createAmqpBroker, exchangeName, queueName } from '@drover/broker';
import { createPgStore, migrate } from '@drover/store';
import { createWorker } from '@drover/worker';
import type { BenchPayload, BenchServers, BenchSystem } from '../system.js';
import { dropSchema } from './postgres.js';

const NAMESPACE = 'bench_drover';
const FUNCNAME = 'bench';
const CLI = fileURLToPath(new URL('../../../cli/src/bin.ts', import.meta.url));
/** Enough connections for 16 enqueues in flight without queueing on the pool. */
const PRODUCER_POOL = 16;
/** A worker's connections: claims and completions are batched, so a few carry 16 slots. */
const WORKER_POOL = 4;

let controller: ChildProcess | null = null;

async function stopController(): Promise<void> {
  const c = controller;
  controller = null;
  if (!c || c.exitCode !== null) return;
  const exited = new Promise((resolve) => c.once('exit', resolve));
  c.kill('SIGTERM');
  await exited;
}

export const system: BenchSystem = {
  name: 'drover',
  settings: {
    relay: 'one `drover controller` process: NOTIFY-woken, batches of 500, publish with confirms, then mark dispatched',
    worker: 'slots = concurrency (RabbitMQ prefetch), claims and completions batched per event-loop turn',
    queue: 'classic, durable, persistent messages',
    durability: 'PostgreSQL synchronous_commit on (default); every outcome fenced by the grab token',
  },

  async reset(servers: BenchServers) {
    await stopController();
    await dropSchema(servers.databaseUrl, NAMESPACE);
    const connection = await amqp.connect(servers.amqpUrl);
    const channel = await connection.createChannel();
    await channel.deleteQueue(queueName(NAMESPACE, FUNCNAME));
    await channel.deleteExchange(exchangeName(NAMESPACE));
    await connection.close();
    const pool = new pg.Pool({ connectionString: servers.databaseUrl, options: `-c search_path=${NAMESPACE}` });
    await migrate(pool, { namespace: NAMESPACE });
    await pool.end();
    const child = spawn(process.execPath, [...process.execArgv, CLI, 'controller'], {
      env: { ...process.env, DATABASE_URL: servers.databaseUrl, AMQP_URL: servers.amqpUrl, DROVER_NAMESPACE: NAMESPACE, DROVER_HTTP_PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    controller = child;
    // Ready when it says so (its log goes to stderr).
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stderr!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('drover running')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`drover controller exited (${code}): ${seen.slice(-500)}`)));
    });
  },

  async producer(servers) {
    const store = createPgStore({ connectionString: servers.databaseUrl, namespace: NAMESPACE, max: PRODUCER_POOL });
    return {
      enqueueBatch: async (payloads: BenchPayload[]) => void (await store.insertMany(payloads.map((arg) => ({ funcname: FUNCNAME, arg })))),
      enqueue: async (payload: BenchPayload) => void (await store.insert({ funcname: FUNCNAME, arg: payload })),
      pending: () => store.countLive(),
      close: () => store.close(),
    };
  },

  async worker(servers, concurrency, onStart) {
    const store = createPgStore({ connectionString: servers.databaseUrl, namespace: NAMESPACE, max: WORKER_POOL });
    const broker = await createAmqpBroker({ url: servers.amqpUrl, namespace: NAMESPACE, connectionName: 'bench-worker' });
    const worker = createWorker({
      store,
      broker,
      functions: { [FUNCNAME]: { handler: (job) => void onStart(job.arg as unknown as BenchPayload), slots: concurrency } },
    });
    await worker.start();
    return {
      stop: async () => {
        await worker.stop();
        await broker.close();
        await store.close();
      },
    };
  },

  shutdown: stopController,
};
