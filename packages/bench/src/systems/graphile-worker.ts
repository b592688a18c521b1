/**
 * graphile-worker 0.16 as a benchmark system, in its own schema.
 *
 * Each of the `concurrency` worker loops takes one job at a time (get_job), and after a job goes
 * straight for the next; an idle loop wakes on the `jobs:insert` NOTIFY that add_job(s) sends,
 * so polling only matters for jobs scheduled in the future, which the benchmark never makes.
 * A completed job is deleted, so its table holds exactly the unfinished ones.
 */
import { createRequire } from 'node:module';
import { Logger, makeWorkerUtils, run, runMigrations, type Runner, type WorkerUtils } from 'graphile-worker';
import { dropSchema } from './postgres.js';
import type { BenchPayload, BenchProducer, BenchServers, BenchSystem, BenchWorker } from '../system.js';

/** The installed version, so the report names what actually ran. */
const VERSION = (createRequire(import.meta.url)('graphile-worker/package.json') as { version: string }).version;
const SCHEMA = 'bench_graphile';
const TASK = 'bench';
/**
 * graphile-worker's default. Only jobs whose run_at is in the future wait for a poll; every
 * benchmark job is due at once and wakes an idle loop by NOTIFY, so a shorter interval would
 * add empty get_job queries without starting anything sooner.
 */
const POLL_INTERVAL_MS = 2_000;
/** node-postgres's default pool size, which graphile-worker inherits; we only ever grow it. */
const DEFAULT_POOL_MAX = 10;

/**
 * graphile-worker logs every completed job at info level; pg-boss and BullMQ log nothing per job,
 * so keeping that line would charge graphile for console output. Warnings and errors still show.
 */
const logger = new Logger(() => (level, message) => {
  const severity = String(level);
  if (severity === 'error' || severity === 'warning') process.stderr.write(`graphile-worker ${severity}: ${message}\n`);
});

/** Options every graphile-worker entry point shares. */
function shared(servers: BenchServers) {
  return { connectionString: servers.databaseUrl, schema: SCHEMA, logger };
}

// WorkerUtils and runners not yet closed, so shutdown() can release leftovers.
const liveUtils = new Set<WorkerUtils>();
const liveRunners = new Set<Runner>();

async function releaseUtils(utils: WorkerUtils): Promise<void> {
  liveUtils.delete(utils);
  await utils.release();
}

async function stopRunner(runner: Runner): Promise<void> {
  liveRunners.delete(runner);
  // Graceful: stops taking jobs, waits for running ones, releases the pool.
  await runner.stop();
}

/** graphile-worker as benchmarked: `concurrency` loops, LISTEN/NOTIFY wake-ups, prepared statements. */
export const system: BenchSystem = {
  name: 'graphile-worker',
  settings: {
    version: VERSION,
    schema: SCHEMA,
    concurrency: 'run({ concurrency }): one get_job loop per slot',
    pollInterval: POLL_INTERVAL_MS,
    wakeUp: 'LISTEN "jobs:insert" (add_job and add_jobs send NOTIFY)',
    preparedStatements: true,
    maxPoolSize: `worker: max(${DEFAULT_POOL_MAX}, concurrency + 1), as its startup warning asks for at least concurrency, +1 for the LISTEN client; producer: ${DEFAULT_POOL_MAX}`,
    enqueue: 'addJob() for one job; add_jobs(job_spec[]) in one SQL call for a batch (0.16 has no JS addJobs)',
    pending: 'rows in _private_jobs with attempts < max_attempts (completed jobs are deleted)',
    completion: 'the job row is deleted',
    logging: 'warnings and errors only (the per-job info line is dropped)',
    cron: 'none',
  },

  async reset(servers) {
    // Dropping the schema is the only reset that also clears tasks, queues and the migration
    // ledger; runMigrations then installs 0.16's schema from scratch.
    await dropSchema(servers.databaseUrl, SCHEMA);
    await runMigrations(shared(servers));
  },

  async producer(servers): Promise<BenchProducer> {
    const utils = await makeWorkerUtils(shared(servers));
    liveUtils.add(utils);
    return {
      async enqueueBatch(payloads: BenchPayload[]) {
        // add_jobs inserts the whole batch in one statement and sends one NOTIFY; the specs
        // travel as a single JSON parameter, so the batch size never changes the SQL text.
        const specs = JSON.stringify(payloads.map((payload) => ({ identifier: TASK, payload })));
        await utils.withPgClient((client) =>
          client.query(
            `select count(*) from ${SCHEMA}.add_jobs(array(select json_populate_recordset(null::${SCHEMA}.job_spec, $1::json)))`,
            [specs],
          ),
        );
      },
      async enqueue(payload: BenchPayload) {
        await utils.addJob(TASK, payload);
      },
      async pending() {
        // _private_jobs is 0.16's job table (the public `jobs` view joins names in, which a
        // count does not need). A permanently failed job stays with attempts = max_attempts:
        // finished, not pending; a running one has its attempt counted but is below the limit.
        const { rows } = await utils.withPgClient((client) =>
          client.query<{ n: number }>(`select count(*)::int as n from ${SCHEMA}._private_jobs where attempts < max_attempts`),
        );
        return rows[0]?.n ?? 0;
      },
      close: () => releaseUtils(utils),
    };
  },

  async worker(servers, concurrency, onStart): Promise<BenchWorker> {
    const runner = await run({
      ...shared(servers),
      concurrency,
      maxPoolSize: Math.max(DEFAULT_POOL_MAX, concurrency + 1),
      pollInterval: POLL_INTERVAL_MS,
      // The worker process handles its own signals and stops us through stop().
      noHandleSignals: true,
      // No cron: without this it looks for a ./crontab file.
      parsedCronItems: [],
      taskList: {
        [TASK]: async (payload) => {
          onStart(payload as BenchPayload);
        },
      },
    });
    liveRunners.add(runner);
    return { stop: () => stopRunner(runner) };
  },

  async shutdown() {
    await Promise.all([...[...liveRunners].map(stopRunner), ...[...liveUtils].map(releaseUtils)]);
  },
};
