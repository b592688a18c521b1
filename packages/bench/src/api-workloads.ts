/**
 * The workloads over the JSON-RPC API (Drover's only: no peer here has one), each measured beside
 * the same thing without the API, in the same run, so that the report shows what the API costs:
 * - api-call: sequential `call`s through the API to a remote worker, alternated with the same
 *   round trip through the client library's `call` and an in-process worker shim; p50/p99/mean;
 * - api-drain: 20,000 no-op jobs drained by remote workers, 4 connections × 16 slots in a process
 *   of their own; jobs/s, as `drain` measures the shim's.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectApi } from '@drover/rpc-client';
import { childExecArgv, wallClockMs, type ApiCredentials, type BenchApi, type BenchServers, type BenchSystem } from './system.js';
import { SLOTS, percentile, until, type Metrics } from './workloads.js';

const API_WORKER_SCRIPT = fileURLToPath(new URL(`./api-worker-process${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
/** The function remote workers work through the API. */
export const API_FUNCNAME = 'bench.noop';
/** The function the in-process path calls: its own queue, so the two paths never take each other's jobs. */
export const SHIM_FUNCNAME = 'bench.shim';
/** A no-op call returns in milliseconds; a minute means the run is stuck. */
const CALL_TIMEOUT_S = 60;

/** The workloads of this file, as `--workloads` names them. */
export const API_WORKLOADS = ['api-call', 'api-drain'];

function apiOf(system: BenchSystem): BenchApi {
  if (!system.api) throw new Error(`${system.name} has no JSON-RPC API: the api-* workloads run on drover only`);
  return system.api;
}

function summary(prefix: string, values: number[]): Metrics {
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  return { [`${prefix}P50Ms`]: percentile(values, 50), [`${prefix}P99Ms`]: percentile(values, 99), [`${prefix}MeanMs`]: mean };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/**
 * `total` round trips each way after `warmup` of each (connections, pools and plans settle in
 * those): a remote worker with 16 slots on one connection and a caller on another, and the
 * client library's call with a worker shim of 16 slots. Both workers wait in this process, idle
 * between calls; the calls alternate, so both paths see the same moments of machine noise.
 */
export async function apiCall(system: BenchSystem, servers: BenchServers, total = 2_000, warmup = 200): Promise<Metrics> {
  const api = apiOf(system);
  await system.reset(servers);
  const credentials = await api.client(servers, [API_FUNCNAME]);
  const closers: (() => Promise<void>)[] = [];
  try {
    const worker = await connectApi({ ...credentials, reconnect: false });
    closers.push(() => worker.close());
    await worker.work(API_FUNCNAME, () => null, { slots: SLOTS, workername: 'bench' });
    const caller = await connectApi({ ...credentials, reconnect: false });
    closers.push(() => caller.close());
    const shim = await api.inProcessCaller(servers, SHIM_FUNCNAME, SLOTS);
    closers.push(() => shim.close());
    const viaApi: number[] = [];
    const inProcess: number[] = [];
    for (let i = 0; i < warmup + total; i++) {
      const apiMs = await timed(() => caller.call(API_FUNCNAME, { t: wallClockMs() }, { timeoutS: CALL_TIMEOUT_S }));
      const shimMs = await timed(() => shim.call({ t: wallClockMs() }));
      if (i < warmup) continue;
      viaApi.push(apiMs);
      inProcess.push(shimMs);
    }
    return { ...summary('api', viaApi), ...summary('shim', inProcess), calls: viaApi.length };
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

/** The remote workers' process: resolves once every connection has announced. */
async function startApiWorkers(credentials: ApiCredentials, connections: number): Promise<{ stop(): Promise<number> }> {
  const child = fork(API_WORKER_SCRIPT, [API_FUNCNAME, String(connections), String(SLOTS)], {
    execArgv: childExecArgv(),
    env: { ...process.env, BENCH_API: JSON.stringify(credentials) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type: string }) => m.type === 'ready' && resolve());
    // After `ready` this rejects a settled promise: nothing.
    child.once('exit', (code) => reject(new Error(`the API worker process exited with ${code} before it was ready`)));
  });
  return {
    stop: async () => {
      if (child.exitCode !== null) throw new Error(`the API worker process exited with ${child.exitCode} during the run`);
      const stopped = new Promise<number>((resolve) => child.on('message', (m: { type: string; tasks?: number }) => m.type === 'stopped' && resolve(m.tasks ?? 0)));
      child.send({ type: 'stop' });
      const [tasks] = await Promise.all([stopped, exited]);
      return tasks;
    },
  };
}

/**
 * `total` no-op jobs enqueued in batches of 1,000 (as `drain`), then remote workers: jobs/s from
 * the moment every connection has announced until none is pending. `tasksRun` is what the remote
 * workers ran, so the report shows that they, not a shim, drained the queue.
 */
export async function apiDrain(system: BenchSystem, servers: BenchServers, connections = 4, total = 20_000): Promise<Metrics> {
  const api = apiOf(system);
  await system.reset(servers);
  const credentials = await api.client(servers, [API_FUNCNAME]);
  const producer = await api.producer(servers, API_FUNCNAME);
  try {
    for (let i = 0; i < total; i += 1000) await producer.enqueueBatch(Array.from({ length: Math.min(1000, total - i) }, () => ({ t: wallClockMs() })));
    const workers = await startApiWorkers(credentials, connections);
    const started = performance.now();
    try {
      await until(async () => (await producer.pending()) === 0, `${system.name} api-drain`);
    } catch (err) {
      await workers.stop().catch(() => undefined);
      throw err;
    }
    const seconds = (performance.now() - started) / 1000;
    const tasksRun = await workers.stop();
    return { jobsPerSecond: total / seconds, tasksRun };
  } finally {
    await producer.close();
  }
}
