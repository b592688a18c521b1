/**
 * pg-boss 10 (the last major that runs on Node 20) as a benchmark system, in its own schema.
 *
 * pg-boss workers poll: a `work()` loop fetches up to `batchSize` jobs, runs the handler, then
 * sleeps out the rest of `pollingIntervalSeconds` (at least 0.5 s) even when the fetch found work
 * (pg-boss's src/worker.js), and `send()` wakes nobody. Stock, a worker process with N slots
 * therefore starts at most N jobs per half second. Unless told otherwise the adapter calls the
 * documented `notifyWorker(id)` after each handled job, so a busy slot fetches again at once and
 * only an empty fetch sleeps: the loop graphile-worker and BullMQ run natively.
 *
 * A slot is one `work()` loop with batchSize 1, not a share of one big batch: in pg-boss 10 a
 * batch completes or fails as a whole, while every other system here settles each job on its
 * own. (One loop with batchSize = N is several times faster at draining, at that price.)
 */
import { createRequire } from 'node:module';
import PgBoss from 'pg-boss';
import { dropSchema } from './postgres.js';
import type { BenchPayload, BenchProducer, BenchServers, BenchSystem, BenchWorker } from '../system.js';

/** The installed version, so the report names what actually ran. */
const VERSION = (createRequire(import.meta.url)('pg-boss/package.json') as { version: string }).version;
const SCHEMA = 'bench_pgboss';
const QUEUE = 'bench';
/** The floor pg-boss enforces (attorney.js MIN_POLLING_INTERVAL_MS); smaller throws. */
const POLLING_INTERVAL_SECONDS = 0.5;
/** pg-boss's (and node-postgres's) default pool size; we only ever grow it. */
const DEFAULT_POOL_MAX = 10;
/**
 * Longest a worker's stop waits for handlers still running; ours are no-ops, so this only
 * bounds a hung shutdown. pg-boss's own default is 30 s.
 */
const STOP_TIMEOUT_MS = 10_000;

/** How the adapter drives pg-boss's polling loop. */
export interface PgBossSystemOptions {
  /**
   * After each handled job, fetch again at once (`notifyWorker`) instead of sleeping the polling
   * interval. False is stock pg-boss 10: at most `concurrency` jobs per 0.5 s per process.
   */
  repollWhenBusy: boolean;
}

/** Builds the pg-boss system; `system` below is the configuration the benchmark runs. */
export function createPgBossSystem(options: PgBossSystemOptions): BenchSystem {
  // Every pg-boss instance the producer or a worker started, so shutdown() can stop leftovers.
  const live = new Set<PgBoss>();

  const newBoss = (servers: BenchServers, max = DEFAULT_POOL_MAX): PgBoss => {
    const boss = new PgBoss({
      connectionString: servers.databaseUrl,
      schema: SCHEMA,
      max,
      // reset() created the schema; a second migrator racing it from each worker would only
      // queue on pg-boss's advisory lock.
      migrate: false,
      // No cron here: the timekeeper would add its own polling worker to every instance.
      schedule: false,
    });
    // An EventEmitter throws an unhandled 'error'; pg-boss reports maintenance and worker
    // failures this way, and a benchmark should show them rather than die on them.
    boss.on('error', (error) => process.stderr.write(`pg-boss: ${error.message}\n`));
    return boss;
  };

  const stopBoss = async (boss: PgBoss): Promise<void> => {
    live.delete(boss);
    // graceful: waits for running handlers (pg-boss fails whatever is still active at the end).
    await boss.stop({ graceful: true, wait: true, timeout: STOP_TIMEOUT_MS });
  };

  return {
    name: 'pg-boss',
    settings: {
      version: VERSION,
      schema: SCHEMA,
      queuePolicy: 'standard',
      concurrency: 'one work() loop per slot, batchSize 1 (pg-boss 11 later built this in as localConcurrency)',
      pollingIntervalSeconds: POLLING_INTERVAL_SECONDS,
      repollWhenBusy: options.repollWhenBusy
        ? 'notifyWorker(id) after each handled job: a busy slot fetches again at once; only an empty fetch sleeps'
        : 'off (stock): every fetch, found or not, is followed by the polling interval',
      poolMax: `worker: max(${DEFAULT_POOL_MAX}, concurrency + 1); producer: ${DEFAULT_POOL_MAX}`,
      enqueue: 'send() for one job, insert() for a batch (one statement)',
      pending: "getQueueSize(queue, { before: 'completed' }): created + retry + active",
      completion: 'complete() sets state = completed; the row stays (archived after 12 h by default)',
      schedule: false,
      supervise: true,
    },

    async reset(servers) {
      // Dropping the schema is the only reset that also clears pg-boss's queue partitions and
      // version row; the library itself has no "uninstall".
      await dropSchema(servers.databaseUrl, SCHEMA);
      // pg-boss installs its schema on start() when migrate is on (the default).
      const boss = new PgBoss({ connectionString: servers.databaseUrl, schema: SCHEMA, schedule: false, supervise: false });
      boss.on('error', (error) => process.stderr.write(`pg-boss: ${error.message}\n`));
      await boss.start();
      try {
        await boss.createQueue(QUEUE, { name: QUEUE, policy: 'standard' });
      } finally {
        await boss.stop({ graceful: false });
      }
    },

    async producer(servers): Promise<BenchProducer> {
      const boss = newBoss(servers);
      await boss.start();
      live.add(boss);
      return {
        async enqueueBatch(payloads: BenchPayload[]) {
          await boss.insert(payloads.map((data) => ({ name: QUEUE, data })));
        },
        async enqueue(payload: BenchPayload) {
          await boss.send(QUEUE, payload);
        },
        // The default `before` is 'active', which would miss jobs a handler is running; the
        // job_state enum orders created < retry < active < completed, so this counts all three.
        pending: () => boss.getQueueSize(QUEUE, { before: 'completed' }),
        close: () => stopBoss(boss),
      };
    },

    async worker(servers, concurrency, onStart): Promise<BenchWorker> {
      // One connection per slot, so a slot's fetch never queues behind another's; +1 for the
      // supervisor's maintenance queries.
      const boss = newBoss(servers, Math.max(DEFAULT_POOL_MAX, concurrency + 1));
      await boss.start();
      live.add(boss);
      for (let slot = 0; slot < concurrency; slot++) {
        // work() resolves the id only after the loop's first fetch is in flight; a handler that
        // runs before then simply sleeps the interval once.
        const loop: { id?: string } = {};
        loop.id = await boss.work<BenchPayload>(
          QUEUE,
          { batchSize: 1, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS },
          async (jobs) => {
            for (const job of jobs) onStart(job.data);
            // The handler only runs when the fetch found a job, so there is probably another.
            if (options.repollWhenBusy && loop.id !== undefined) boss.notifyWorker(loop.id);
          },
        );
      }
      return { stop: () => stopBoss(boss) };
    },

    async shutdown() {
      await Promise.all([...live].map(stopBoss));
    },
  };
}

/** pg-boss as benchmarked: one polling loop per slot, re-polling at once while there is work. */
export const system: BenchSystem = createPgBossSystem({ repollWhenBusy: true });
