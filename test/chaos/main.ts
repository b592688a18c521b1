/**
 * `npm run chaos`: Drover's chaos matrix against real processes and the services on this machine.
 * Two controllers, two schedulers and several workers (one of them behind TCP proxies it can be
 * cut off by) serve a steady stream of jobs while faults are injected one kind at a time; after
 * each kind the stream drains and the run prints, per fault: jobs committed, completed, lost, run
 * more than once and why, completions accepted without the lease, and the time to recover.
 *
 * It stops and starts the shared PostgreSQL and RabbitMQ: the npm script takes the exclusive lock
 * (`flock -x /tmp/drover-svc.lock`), and every service is restored on exit, pass, fail or Ctrl-C.
 *
 * Options: --faults a,b (default: all), --times N (default 20), --rate jobs/s (default 100),
 * --workers N (default 3, plus the partitionable one), --short (1 of each), --json, --keep.
 * A killed worker is one with a job in flight when there is one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startTcpProxy } from '@drover/testing';
import { analyse, readRuns, type FaultFigures } from './analyse.js';
import { FAULT_KINDS, inject, restoreServices, type FaultKind, type FaultTarget } from './faults.js';
import { Fleet } from './fleet.js';
import { table } from './report.js';
import { AMQP_URL, DATABASE_URL, Producer, createRunContext, liveCount, until } from './stream.js';

const { values } = parseArgs({
  options: {
    faults: { type: 'string' },
    times: { type: 'string' },
    rate: { type: 'string' },
    workers: { type: 'string' },
    short: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: must be a positive integer, got ${text}`);
  return n;
}

const faults = (values.faults?.split(',') ?? [...FAULT_KINDS]) as FaultKind[];
for (const f of faults) if (!FAULT_KINDS.includes(f)) throw new Error(`--faults: unknown fault ${f}; one of ${FAULT_KINDS.join(', ')}`);
/** The CI-sized run does each fault 3 times: under ~3 minutes here for the whole matrix. */
const times = positive('times', values.times, values.short ? 1 : 20);
const rate = positive('rate', values.rate, 100);
const workerCount = positive('workers', values.workers, 3);
/** A fault's recovery is awaited this long before it counts as not recovered. */
const RECOVER_TIMEOUT_MS = 120_000;
/** Drain bound after a kind's last fault: leases (3 s), retries and lost-message recovery (5 s) fit many times. */
const DRAIN_TIMEOUT_MS = 180_000;
/** Stream between two faults, so that each hits a system that has recovered and is busy again. */
const GAP_MS = 1_000;

const log = (msg: string): void => void process.stderr.write(`[chaos] ${msg}\n`);

const ctx = createRunContext('chaos');
const fleet = new Fleet(ctx.dir, ctx.env);
const pgProxy = await startTcpProxy(DATABASE_URL);
const amqpProxy = await startTcpProxy(AMQP_URL);
let interrupted = false;
const onSignal = (): void => {
  if (interrupted) return;
  interrupted = true;
  log('interrupted: restoring the services');
  fleet.killAll();
  restoreServices({ pg: pgProxy, amqp: amqpProxy })
    .catch((err: unknown) => log(`restoring the services failed: ${(err as Error).message}`))
    .finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const figures: FaultFigures[] = [];
let exitCode = 0;
try {
  const migrated = await fleet.run(['migrate']);
  if (migrated.code !== 0) throw new Error(`drover migrate failed: ${migrated.output}`);
  const partitionable = (): ReturnType<Fleet['start']> => fleet.start('worker-proxied', ['worker', 'test/chaos/handlers.ts'], { DATABASE_URL: pgProxy.url, AMQP_URL: amqpProxy.url });
  const target: FaultTarget = {
    fleet,
    processes: {
      controller: [0, 1].map(() => fleet.start('controller', ['controller'])),
      scheduler: [0, 1].map(() => fleet.start('scheduler', ['scheduler'])),
      worker: Array.from({ length: workerCount }, () => fleet.start('worker', ['worker', 'test/chaos/handlers.ts'])),
    },
    restart: (role) => fleet.start(role, role === 'worker' ? ['worker', 'test/chaos/handlers.ts'] : [role]),
    proxies: { pg: pgProxy, amqp: amqpProxy, pid: () => proxied.pid },
    busyPids: () => {
      const open = new Map<string, number>();
      for (const r of readRuns(ctx.dir)) if (r.end === null) open.set(`${r.id}/${r.attempt}`, r.pid);
      return new Set(open.values());
    },
    deaths: [],
    partitions: [],
  };
  const proxied = partitionable();

  // Handler runs of 10–100 ms: a few jobs in flight per worker at 100 jobs/s.
  const producer = new Producer(ctx.client, rate, () => 10 + Math.floor(Math.random() * 90));
  const ready = await until(async () => {
    const [id] = await producer.enqueue('warm-up', 1, 0);
    return until(async () => (await ctx.client.getJob(id!))?.state === 'completed', 10_000);
  }, 120_000, 500);
  if (!ready) throw new Error(`the fleet did not complete a job within 2 minutes; see the logs in ${ctx.dir}`);
  log(`fleet up (namespace ${ctx.namespace}, logs in ${ctx.dir}); ${faults.join(', ')} × ${times} at ${rate} jobs/s`);
  producer.start();

  for (const fault of faults) {
    producer.phase = fault;
    const recoverMs: (number | null)[] = [];
    for (let i = 0; i < times && !interrupted; i++) {
      const kind = await inject(fault, target);
      const healed = Date.now();
      // Recovered: a job enqueued once the fault is undone completes.
      const ok = await until(async () => {
        const [id] = await producer.enqueue(fault, 1, 0);
        return until(async () => (await ctx.client.getJob(id!))?.state === 'completed', RECOVER_TIMEOUT_MS);
      }, RECOVER_TIMEOUT_MS, 200);
      recoverMs.push(ok ? Date.now() - healed : null);
      log(`${fault} ${i + 1}/${times}${fault === 'mixed' ? ` (${kind})` : ''}: ${ok ? `recovered in ${Date.now() - healed} ms` : 'NOT recovered'}`);
      await new Promise((resolve) => setTimeout(resolve, GAP_MS));
    }
    producer.phase = null;
    await producer.settled();
    const drained = await until(async () => (await liveCount(ctx.pool, fault)) === 0, DRAIN_TIMEOUT_MS, 250);
    if (!drained) log(`${fault}: ${await liveCount(ctx.pool, fault)} jobs still live after ${DRAIN_TIMEOUT_MS} ms; counted lost`);
    const f = await analyse(ctx.pool, { fault, injected: recoverMs.length, committedIds: producer.committed.get(fault) ?? [], recoverMs }, readRuns(ctx.dir), target.deaths, target.partitions);
    figures.push(f);
    log(`${fault}: committed ${f.committed}, completed ${f.completed}, lost ${f.lost}, extra runs ${f.runsExtra} (${f.extraUnexplained} unexplained), completed without lease ${f.completedWithoutLease}`);
    if (interrupted) break;
  }
  await producer.stop();
  await fleet.stopAll(15_000);
  const bad = figures.some((f) => f.lost > 0 || f.completedWithoutLease > 0 || f.extraUnexplained > 0 || f.notRecovered > 0);
  exitCode = bad ? 1 : 0;
  const out = { namespace: ctx.namespace, logs: ctx.dir, times, rate, workers: workerCount + 1, producerFailures: producer.failures, figures };
  writeFileSync(join(ctx.dir, 'chaos.json'), JSON.stringify(out, null, 2));
  if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else process.stdout.write(`${table(figures)}\n\nenqueues refused during faults (not retried): ${producer.failures}; logs and chaos.json in ${ctx.dir}\n`);
} catch (err) {
  log(`failed: ${(err as Error).stack ?? String(err)}`);
  exitCode = 2;
} finally {
  fleet.killAll();
  await restoreServices({ pg: pgProxy, amqp: amqpProxy });
  await pgProxy.close();
  await amqpProxy.close();
  await ctx.close(values.keep || exitCode !== 0);
}
process.exit(exitCode);
