/**
 * BullMQ 6 on Redis as a benchmark system, under its own key prefix.
 *
 * A worker keeps `concurrency` jobs in flight, taking the next as soon as one finishes, and
 * blocks on Redis (BZPOPMIN on the queue's marker) while idle, so a new job wakes it without
 * polling. Unlike the PostgreSQL systems, nothing here is durable: Redis on the benchmark machine
 * runs with persistence off (--save "" --appendonly no), and BullMQ's writes only reach memory.
 */
import { createRequire } from 'node:module';
import { Queue, Worker, type ConnectionOptions, type DefaultJobOptions } from 'bullmq';
import type { BenchPayload, BenchProducer, BenchServers, BenchSystem, BenchWorker } from '../system.js';

const require = createRequire(import.meta.url);
/** The installed versions, so the report names what actually ran. */
const VERSION = (require('bullmq/package.json') as { version: string }).version;
const IOREDIS_VERSION = (require('ioredis/package.json') as { version: string }).version;
const QUEUE = 'bench';
const PREFIX = 'bench';
const JOB_NAME = 'bench';
/**
 * removeOnComplete: true deletes a job as it completes, the cheapest auto-removal and the one
 * BullMQ's docs give for not filling Redis; failed jobs are kept, bounded, for inspection (the
 * docs' own example count). Our no-op jobs never fail.
 */
const JOB_OPTIONS: DefaultJobOptions = { removeOnComplete: true, removeOnFail: { count: 5_000 } };

/**
 * Connection options rather than a shared ioredis client: BullMQ then opens its own connections
 * with the settings each needs (a worker's blocking connection gets maxRetriesPerRequest: null).
 */
function connection(servers: BenchServers): ConnectionOptions {
  return { url: servers.redisUrl };
}

// Queues and workers not yet closed, so shutdown() can close leftovers.
const live = new Set<Queue | Worker>();

async function closeOne(resource: Queue | Worker): Promise<void> {
  live.delete(resource);
  // Worker.close() is graceful: it stops fetching and waits for the jobs in flight.
  await resource.close();
}

/** BullMQ as benchmarked: one Worker with `concurrency` slots, jobs removed on completion. */
export const system: BenchSystem = {
  name: 'bullmq',
  settings: {
    version: VERSION,
    redisClient: `ioredis ${IOREDIS_VERSION} (an optional peer of BullMQ 6, installed explicitly)`,
    queue: QUEUE,
    prefix: PREFIX,
    concurrency: 'new Worker(..., { concurrency }): one Worker per process, `concurrency` jobs in flight',
    wakeUp: 'blocking BZPOPMIN on the queue marker (no polling)',
    jobOptions: 'removeOnComplete: true, removeOnFail: { count: 5000 }',
    enqueue: 'add() for one job, addBulk() for a batch (one MULTI)',
    pending: 'getJobCounts(wait, active, delayed, prioritized, waiting-children), summed',
    completion: 'the job is moved out of active and deleted (removeOnComplete)',
    durability: 'none: Redis here runs with --save "" --appendonly no, so acknowledged jobs live only in memory',
  },

  async reset(servers) {
    // Redis needs no helper process; obliterate removes every key of the queue, including its
    // meta hash, so the pause it takes first does not outlive it.
    const queue = new Queue(QUEUE, { connection: connection(servers), prefix: PREFIX });
    try {
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  },

  async producer(servers): Promise<BenchProducer> {
    const queue = new Queue<BenchPayload>(QUEUE, { connection: connection(servers), prefix: PREFIX, defaultJobOptions: JOB_OPTIONS });
    live.add(queue);
    await queue.waitUntilReady();
    return {
      async enqueueBatch(payloads: BenchPayload[]) {
        await queue.addBulk(payloads.map((data) => ({ name: JOB_NAME, data })));
      },
      async enqueue(payload: BenchPayload) {
        await queue.add(JOB_NAME, payload);
      },
      async pending() {
        const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children');
        return Object.values(counts).reduce((sum, n) => sum + n, 0);
      },
      close: () => closeOne(queue),
    };
  },

  async worker(servers, concurrency, onStart): Promise<BenchWorker> {
    const worker = new Worker<BenchPayload>(
      QUEUE,
      async (job) => {
        onStart(job.data);
      },
      { connection: connection(servers), prefix: PREFIX, concurrency },
    );
    // An EventEmitter throws an unhandled 'error'; BullMQ's docs ask for a listener, and a
    // benchmark should show a Redis error rather than die on it.
    worker.on('error', (error) => process.stderr.write(`bullmq: ${error.message}\n`));
    live.add(worker);
    await worker.waitUntilReady();
    return { stop: () => closeOne(worker) };
  },

  async shutdown() {
    await Promise.all([...live].map(closeOne));
  },
};
