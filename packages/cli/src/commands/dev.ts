/**
 * `drover dev` (what `npm start` runs): everything in one process. With no DATABASE_URL and no
 * AMQP_URL, on an embedded PostgreSQL (PGlite, data in DROVER_DATA_DIR) and the in-memory broker;
 * with both set, on the real services. It runs the controller, the scheduler and a worker for the
 * demo functions, enqueues the demo and makes its trigger (`@every 5s` on demo.tick), shows jobs
 * moving, prints a summary, then a line each time the trigger fires, and keeps running for
 * `drover enqueue`, `drover jobs`, `drover triggers` and `drover stats` until Ctrl-C. Run again, it
 * goes on where it was.
 */
import { resolve } from 'node:path';
import { ValidationError, type Broker, type JobState, type JobStore, type ApiClientStore, type Presence } from '@drover/core';
import { MemoryBroker, createAmqpBroker } from '@drover/broker';
import { createMemoryPresence, createRedisPresence } from '@drover/presence';
import { createClient } from '@drover/client';
import { createController } from '@drover/controller';
import { createScheduler } from '@drover/scheduler';
import { createPgStore, migrate } from '@drover/store';
import { createPgliteStore } from '@drover/store-pglite';
import { MemoryFlowControl } from '@drover/flow-control';
import { createWorker } from '@drover/worker';
import { httpListenOptions, type Config } from '../config.js';
import { rpcListenOptions } from '../rpc-config.js';
import { demoFunctions, demoJobs, demoTrigger, loadDemoWorkflow, type CallOutcome } from '../dev/demo.js';
import { lockDataDir, writeInstance } from '../dev/instance.js';
import { ensureLocalClient } from '../dev/local-client.js';
import { LiveView } from '../dev/live-view.js';
import { formatTable } from '@drover/core';
import { printJson } from '../output.js';
import { createLogger, leaseRetryPolicy, untilSignal } from '../runtime.js';
import { workflowEngineFor } from '../workflows.js';

const FINISHED: readonly JobState[] = ['completed', 'failed', 'cancelled'];
/** Files this process creates are readable and writable by their owner only: they hold the database. */
const PRIVATE_UMASK = 0o077;
/** The live view refreshes twice a second: smooth enough to watch, cheap for the embedded database. */
const VIEW_EVERY_MS = 500;
/** The demo's jobs finish in seconds; a minute means something is wrong, and the summary says so. */
const DEMO_TIMEOUT_MS = 60_000;

export async function devCommand(config: Config, options: { json: boolean; demo: boolean }): Promise<void> {
  const embedded = !config.DATABASE_URL;
  if (embedded !== !config.AMQP_URL) {
    throw new ValidationError(embedded ? 'AMQP_URL' : 'DATABASE_URL', 'set DATABASE_URL and AMQP_URL together (real services), or neither (embedded)');
  }
  const logger = createLogger(config.LOG_LEVEL ?? 'warn', 'dev');
  const dataDir = resolve(config.DROVER_DATA_DIR);
  const say = (line: string): void => void (options.json ? undefined : process.stdout.write(`${line}\n`));
  const retryPolicy = leaseRetryPolicy(config.DROVER_RETRY_BASE_MS ?? 1000);

  // Whatever this process creates from here (PGlite's files, instance.json, demo.json) is its owner's alone.
  if (embedded) process.umask(PRIVATE_UMASK);
  const unlock = embedded ? lockDataDir(dataDir) : () => undefined;
  // The composition root: one store, every role handed to the part that plays it.
  let store: JobStore & { readonly clients: ApiClientStore };
  let broker: Broker;
  if (embedded) {
    say(`Embedded mode: PostgreSQL (PGlite) in ${resolve(dataDir, 'pgdata')}, in-memory broker.`);
    const pglite = await createPgliteStore({ dataDir: resolve(dataDir, 'pgdata'), namespace: config.DROVER_NAMESPACE, retryPolicy, logger });
    const recovered = await pglite.recoverAfterRestart();
    if (recovered.requeued + recovered.takenBack > 0) say(`Picked up where the last run stopped: ${recovered.requeued} job(s) requeued, ${recovered.takenBack} interrupted job(s) taken back.`);
    store = pglite;
    broker = new MemoryBroker();
  } else {
    say(`Real services: ${new URL(config.DATABASE_URL!).host} and ${new URL(config.AMQP_URL!).host}, namespace ${config.DROVER_NAMESPACE}.`);
    const pg = createPgStore({ connectionString: config.DATABASE_URL!, namespace: config.DROVER_NAMESPACE, retryPolicy, logger });
    await migrate(pg.pool, { namespace: config.DROVER_NAMESPACE, logger });
    store = pg;
    broker = await createAmqpBroker({ url: config.AMQP_URL!, namespace: config.DROVER_NAMESPACE, queueType: config.DROVER_QUEUE_TYPE, persistentMessages: config.DROVER_PERSISTENT_MESSAGES, logger, connectionName: 'drover-dev' });
  }

  // Presence in this process when embedded (no Redis to run); in Redis on the real services when REDIS_URL says where.
  const registry: Presence | null = embedded
    ? createMemoryPresence()
    : config.REDIS_URL ? createRedisPresence({ url: config.REDIS_URL, namespace: config.DROVER_NAMESPACE, logger, connectionName: 'drover-dev' }) : null;
  const presence = registry ? { presence: { presence: registry, ...(config.DROVER_HEARTBEAT_MS === undefined ? {} : { heartbeatMs: config.DROVER_HEARTBEAT_MS }) } } : {};

  // The API takes tokens only: the other commands on this machine use the local admin's, kept in the data folder.
  await ensureLocalClient(store.clients, dataDir);
  const scheduler = createScheduler({ store, logger, pollMs: config.DROVER_SCHEDULER_POLL_MS, trimEveryMs: config.DROVER_SCHEDULER_TRIM_EVERY_MS });
  const controller = createController({
    store,
    broker,
    clients: store.clients,
    logger,
    relay: { sweepMs: config.DROVER_RELAY_SWEEP_MS, staleMs: config.DROVER_REDISPATCH_AFTER_MS, maxInBrokerPerFunction: config.DROVER_RELAY_MAX_IN_BROKER },
    http: httpListenOptions(config),
    rpc: rpcListenOptions(config),
    ...presence,
  });
  // Embedded mode has one worker: rate limits and concurrency caps in memory hold for the whole of it.
  const worker = createWorker({ store, broker, logger, functions: demoFunctions, flowControl: new MemoryFlowControl(), shutdownGraceMs: config.DROVER_SHUTDOWN_GRACE_MS, ...presence });
  const engine = await workflowEngineFor(config, { store, broker, logger });
  if (options.demo && engine) {
    const { loaded } = await loadDemoWorkflow(store);
    say(`Demo workflow: ${loaded ? 'loaded' : 'kept from the last run'} demo.flow and its action demo.sum (npx drover workflows list).`);
  }
  await scheduler.start();
  await controller.start();
  await worker.start();
  await engine?.start();
  const removeInstance = writeInstance({ pid: process.pid, url: controller.url!, namespace: config.DROVER_NAMESPACE, dataDir, startedAt: new Date().toISOString() });
  say(`API: ${controller.url}  (POST /jobs, GET /jobs, GET /stats, GET /workers, GET /health); its admin token is in ${resolve(dataDir, 'token')}`);
  const rpc = controller.rpcAddresses;
  if (rpc?.tcp) say(`JSON-RPC (JobCenter's protocol): tcp://${rpc.tcp.host}:${rpc.tcp.port}${rpc.tls ? `, tls://${rpc.tls.host}:${rpc.tls.port}` : ''}${rpc.websocketPath ? `, ${controller.url!.replace(/^http/, 'ws')}${rpc.websocketPath}` : ''}; hello as local-admin with that token`);

  let stopped = false;
  const stop = async (): Promise<void> => {
    stopped = true;
    await engine?.stop();
    await worker.stop();
    await controller.stop();
    await scheduler.stop();
    await registry?.close();
    await broker.close();
    await store.close();
    removeInstance();
    unlock();
  };
  const running = untilSignal(logger, stop);

  if (options.demo) {
    const { trigger, created } = await demoTrigger(store);
    say(
      `Demo trigger: ${created ? 'made' : 'kept from the last run'} trigger ${trigger.id} (${trigger.spec} → ${trigger.funcname}); watch ${trigger.funcname} count up below. ` +
        `npx drover triggers list shows it, npx drover triggers disable ${trigger.id} stops it.`,
    );
    const { state, resumed } = await demoJobs(store, dataDir, { workflow: engine !== null });
    say(resumed ? `Demo: going on with the ${state.jobs.length} demo jobs of the last run.` : `Demo: enqueued ${state.jobs.length} jobs; the duplicate uniqkey returned job ${state.duplicateOf}, the first one's id.`);
    const client = createClient({ store });
    const call: Promise<CallOutcome> = client.result(state.callId, { timeoutMs: DEMO_TIMEOUT_MS }).then(
      (result) => ({ result }),
      (err: Error) => ({ error: err.message }),
    );
    const view = new LiveView();
    const deadline = Date.now() + DEMO_TIMEOUT_MS;
    for (;;) {
      if (stopped) return running;
      if (!options.json) view.show(await store.counts());
      const jobs = await Promise.all(state.jobs.map((j) => store.getJob(j.id)));
      if (jobs.every((j) => j && FINISHED.includes(j.state)) || Date.now() > deadline) {
        view.end();
        const outcome = await call;
        const summary = state.jobs.map((d, i) => ({ ...d, state: jobs[i]?.state ?? 'missing', attempts: jobs[i]?.attempts ?? 0, failures: jobs[i]?.failures ?? 0, result: jobs[i]?.result ?? null }));
        if (options.json) {
          printJson({ event: 'demo-finished', api: controller.url, dataDir, duplicateOf: state.duplicateOf, call: outcome, jobs: summary, trigger: { id: trigger.id, spec: trigger.spec, funcname: trigger.funcname } });
        } else {
          say('\nDemo summary:');
          say(formatTable(['job', 'id', 'state', 'attempts', 'failures', 'result'], summary.map((s) => [s.label, s.id, s.state, String(s.attempts), String(s.failures), JSON.stringify(s.result)])));
          say(`call(demo.add 2 + 3) returned ${'result' in outcome ? JSON.stringify(outcome.result) : `an error: ${outcome.error}`}`);
          say(`\nDrover keeps running. In another terminal: npx drover enqueue demo.greet '{"name":"you"}', npx drover jobs, npx drover triggers list, npx drover stats, npx drover workers. Ctrl-C stops it.`);
        }
        break;
      }
      await new Promise((r) => setTimeout(r, VIEW_EVERY_MS));
    }
    if (!options.json) await showFires(store, trigger.id, () => stopped, say);
  }
  return running;
}

/**
 * After the summary, one line each time the demo trigger fires, until the process stops: the live
 * view's counts are done by then, and the trigger is what goes on happening.
 */
async function showFires(store: Pick<JobStore, 'getTrigger'>, id: string, stopped: () => boolean, say: (line: string) => void): Promise<void> {
  let seen: number | null = null;
  while (!stopped()) {
    try {
      const trigger = await store.getTrigger(id);
      // Deleted or disabled by the user: nothing more to show.
      if (!trigger?.enabled) return;
      if (seen !== null && trigger.fires > seen) say(`[${new Date().toISOString()}] trigger ${id} (${trigger.spec}) fired: job ${trigger.lastJobId ?? '?'} (${trigger.funcname}), ${trigger.fires} fire(s) so far`);
      seen = trigger.fires;
    } catch (err) {
      // The store closes under this read when the process stops; anything else is worth saying.
      if (!stopped()) say(`could not read the demo trigger: ${(err as Error).message}`);
      return;
    }
    await new Promise((r) => setTimeout(r, VIEW_EVERY_MS));
  }
}
