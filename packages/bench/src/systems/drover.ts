/**
 * Drover as its docs say to run it: the relay in a `drover controller` process of its own, workers
 * consuming RabbitMQ with `slots` = the concurrency, outcomes written to PostgreSQL fenced by the
 * grab token. Every job's insert, claim and outcome commits durably (synchronous_commit on);
 * messages are confirmed and, as by default, not persistent (PostgreSQL is the truth and the relay
 * publishes again what a broker restart loses). The no-op function keeps no exit status
 * (keepForMs 0), as graphile-worker and BullMQ (removeOnComplete) keep none.
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
/** The CLI beside this file's build: compiled when the benchmark runs compiled (`npm run bench`), source under tsx. */
const CLI = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../../cli/src/bin.ts' : '../../../cli/dist/bin.js', import.meta.url));
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
    relay: 'one `drover controller` process (the elected relay): NOTIFY-woken, batches of 500, publish with confirms, then mark dispatched',
    worker: 'slots = concurrency (RabbitMQ prefetch); claims and completions batched while one batch is in flight; acks sent as multiple acks',
    queue: 'classic, durable; transient messages, confirmed (the default)',
    function: 'keepForMs 0: no exit status kept',
    producer: 'single enqueues coalesced into shared INSERT statements by the store (the default)',
    durability: 'PostgreSQL synchronous_commit on (default) for every insert, claim and outcome; every outcome fenced by the grab token',
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
      env: { ...process.env, DATABASE_URL: servers.databaseUrl, AMQP_URL: servers.amqpUrl, DROVER_NAMESPACE: NAMESPACE, DROVER_HTTP_PORT: '0', DROVER_RPC_PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    controller = child;
    // Ready when it says so (its log goes to stderr), and once its relay leads: the controller of
    // the previous run may hold the lead for a moment after it exited, while its session ends.
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stderr.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('drover running') && seen.includes('took the lead')) resolve();
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
      functions: { [FUNCNAME]: { handler: (job) => void onStart(job.arg as unknown as BenchPayload), slots: concurrency, keepForMs: 0 } },
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
