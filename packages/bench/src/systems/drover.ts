/**
 * Drover as its docs say to run it: the relay in a `drover controller` process of its own, workers
 * consuming RabbitMQ with `slots` = the concurrency, outcomes written to PostgreSQL fenced by the
 * grab token. Every job's insert, claim and outcome commits durably (synchronous_commit on);
 * messages are confirmed and, as by default, not persistent (PostgreSQL is the truth and the relay
 * publishes again what a broker restart loses). The no-op function keeps no exit status
 * (keepForMs 0), as graphile-worker and BullMQ (removeOnComplete) keep none.
 *
 * The controller's JSON-RPC API listens on a free TCP port (DROVER_RPC_PORT=0), read from its log:
 * the api-* workloads connect remote workers and callers to it, and compare it with the same
 * round trip through the client library and an in-process worker shim.
 *
 * With a rate limit (drain-limited), the worker keeps it in Redis as a fleet would
 * (`RedisFlowControl`, the namespace's keys), failing closed as by default.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createAmqpBroker, deleteBrokerNamespace } from '@drover/broker';
import { createClient } from '@drover/client';
import { RedisFlowControl } from '@drover/flow-control';
import { createPgStore, migrate, type PgJobStore } from '@drover/store';
import { createWorker } from '@drover/worker';
import { childExecArgv, type BenchApi, type BenchPayload, type BenchProducer, type BenchServers, type BenchSystem } from '../system.js';
import { dropSchema } from './postgres.js';

const DEFAULT_NAMESPACE = 'bench_drover';
const FUNCNAME = 'bench';
/** The API client the api-* workloads connect as (made anew after each reset drops the schema). */
const API_WHO = 'bench';
/** Every function a run may leave a queue for: reset deletes them all. */
const FUNCNAMES = [FUNCNAME, 'bench.noop', 'bench.shim'];
/** A call waits for its no-op job far less than this; past it the run is stuck, not slow. */
const CALL_TIMEOUT_MS = 60_000;
/** The CLI beside this file's build: compiled when the benchmark runs compiled (`npm run bench`), source under tsx. */
const CLI = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../../cli/src/bin.ts' : '../../../cli/dist/bin.js', import.meta.url));
/** Enough connections for 16 enqueues in flight without queueing on the pool. */
const PRODUCER_POOL = 16;
/** A worker's connections: claims and completions are batched, so a few carry 16 slots. */
const WORKER_POOL = 4;

let controller: ChildProcess | null = null;
/** The running controller's JSON-RPC address, `tcp://host:port`. */
let rpcUrl: string | null = null;

const namespaceOf = (servers: BenchServers): string => servers.namespace ?? DEFAULT_NAMESPACE;

function storeFor(servers: BenchServers, max: number): PgJobStore {
  return createPgStore({ connectionString: servers.databaseUrl, namespace: namespaceOf(servers), max });
}

function producerOf(store: PgJobStore, funcname: string): BenchProducer {
  return {
    enqueueBatch: async (payloads: BenchPayload[]) => void (await store.insertMany(payloads.map((arg) => ({ funcname, arg })))),
    enqueue: async (payload: BenchPayload) => void (await store.insert({ funcname, arg: payload })),
    pending: () => store.countLive(),
    close: () => store.close(),
  };
}

/** A controller log line (pino's JSON) that tells where JSON-RPC listens, or null. */
function rpcAddressIn(line: string): string | null {
  if (!line.includes('JSON-RPC listening')) return null;
  try {
    const entry = JSON.parse(line) as { tcp?: { host: string; port: number } | null };
    return entry.tcp ? `tcp://${entry.tcp.host}:${entry.tcp.port}` : null;
  } catch {
    return null;
  }
}

async function stopController(): Promise<void> {
  const c = controller;
  controller = null;
  rpcUrl = null;
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
    api: 'JSON-RPC over TCP (netstrings) on the controller, one API client that may call and work; remote workers keep exit statuses (the API has no keepFor setting), ready once their announce is answered',
    apiCall: 'one remote worker connection with 16 slots and one caller connection (@drover/rpc-client), in the benchmark process; alternated with @drover/client call() (it polls the job: 5 ms, doubling to 250 ms) and an in-process shim of 16 slots that keeps exit statuses',
    apiDrain: '4 remote worker connections × 16 slots in one forked process, no-op handler',
    drainLimited: 'drain twice in one run, with no limit and with the function\'s rateLimit (max 1,000,000 per 1,000 ms, far above the drain rate) kept in Redis (RedisFlowControl, REDIS_URL, fail closed); the order alternates between runs',
  },

  async reset(servers: BenchServers) {
    const namespace = namespaceOf(servers);
    await stopController();
    await dropSchema(servers.databaseUrl, namespace);
    await deleteBrokerNamespace({ url: servers.amqpUrl, namespace: namespace, funcnames: FUNCNAMES });
    const pool = new pg.Pool({ connectionString: servers.databaseUrl, options: `-c search_path=${namespace}` });
    await migrate(pool, { namespace });
    await pool.end();
    const child = spawn(process.execPath, [...childExecArgv(), CLI, 'controller'], {
      env: { ...process.env, DATABASE_URL: servers.databaseUrl, AMQP_URL: servers.amqpUrl, DROVER_NAMESPACE: namespace, DROVER_HTTP_PORT: '0', DROVER_RPC_PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    controller = child;
    // Ready when it says so (its log goes to stderr), and once its relay leads: the controller of
    // the previous run may hold the lead for a moment after it exited, while its session ends.
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      let ready = false;
      // Read to the end (a full pipe would stall the controller), but looked at only until ready.
      child.stderr.on('data', (d: Buffer) => {
        if (ready) return;
        seen += d.toString();
        if (!seen.includes('drover running') || !seen.includes('took the lead')) return;
        ready = true;
        for (const line of seen.split('\n')) rpcUrl ??= rpcAddressIn(line);
        resolve();
      });
      child.once('exit', (code) => reject(new Error(`drover controller exited (${code}): ${seen.slice(-500)}`)));
    });
  },

  async producer(servers) {
    return producerOf(storeFor(servers, PRODUCER_POOL), FUNCNAME);
  },

  async worker(servers, concurrency, onStart, rateLimit) {
    const store = storeFor(servers, WORKER_POOL);
    const broker = await createAmqpBroker({ url: servers.amqpUrl, namespace: namespaceOf(servers), connectionName: 'bench-worker' });
    const flowControl = rateLimit ? new RedisFlowControl({ url: servers.redisUrl, namespace: namespaceOf(servers) }) : undefined;
    // Ready before the drain's clock starts: a first start would otherwise wait for the connection.
    await flowControl?.ready();
    const worker = createWorker({
      store,
      broker,
      ...(flowControl ? { flowControl } : {}),
      functions: {
        [FUNCNAME]: { handler: (job) => void onStart(job.arg as unknown as BenchPayload), slots: concurrency, keepForMs: 0, ...(rateLimit ? { rateLimit } : {}) },
      },
    });
    await worker.start();
    return {
      stop: async () => {
        await worker.stop();
        await flowControl?.close();
        await broker.close();
        await store.close();
      },
    };
  },

  shutdown: stopController,
  api: droverApi(),
  rateLimits: true,
};

function droverApi(): BenchApi {
  return {
    async client(servers, funcnames) {
      if (!rpcUrl) throw new Error('the drover controller is not running, or did not say where JSON-RPC listens: reset first');
      // Straight in PostgreSQL, as `drover clients add` does with DATABASE_URL.
      const store = storeFor(servers, 1);
      try {
        const { token } = await store.clients.add({ who: API_WHO, call: funcnames, work: funcnames });
        return { url: rpcUrl, who: API_WHO, token };
      } finally {
        await store.close();
      }
    },

    async producer(servers, funcname) {
      return producerOf(storeFor(servers, PRODUCER_POOL), funcname);
    },

    async inProcessCaller(servers, funcname, slots) {
      // The worker keeps each job's exit status (the default): the client's call reads its result there.
      const workerStore = storeFor(servers, WORKER_POOL);
      const broker = await createAmqpBroker({ url: servers.amqpUrl, namespace: namespaceOf(servers), connectionName: 'bench-shim-caller' });
      const worker = createWorker({ store: workerStore, broker, functions: { [funcname]: { handler: () => null, slots } } });
      await worker.start();
      // The caller's own pool, as a separate service would have; a sequential caller needs one connection.
      const callerStore = storeFor(servers, 1);
      const client = createClient({ store: callerStore });
      return {
        call: async (payload) => void (await client.call({ funcname, arg: payload }, { timeoutMs: CALL_TIMEOUT_MS })),
        close: async () => {
          await worker.stop();
          await broker.close();
          await Promise.all([workerStore.close(), callerStore.close()]);
        },
      };
    },
  };
}
