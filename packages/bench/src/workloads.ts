/**
 * The workloads, each run the same way for every system:
 * - drain: 20,000 no-op jobs enqueued in batches of 1,000, then worker processes with 16 slots
 *   each; jobs/s from the moment the workers are ready until none is pending;
 * - enqueue: 10,000 single enqueues, 16 in flight; enqueues/s and call latency;
 * - latency: an idle worker, then 2,000 jobs enqueued one every 5 ms; enqueue → handler start;
 * - steady: 1,000 jobs/s offered for 20 s with a worker running; completed/s, p99, keeping up.
 * (scale is drain with 1, 2 and 4 worker processes.)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childExecArgv, wallClockMs, type BenchPayload, type BenchProducer, type BenchRateLimit, type BenchServers, type BenchSystem } from './system.js';

const WORKER_SCRIPT = fileURLToPath(new URL(`./worker-process${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
/** Slots per worker process or API connection. */
export const SLOTS = 16;
/** How often drain polls "pending": 25 ms bounds the timing error to about 1 % of a one-second drain. */
const POLL_MS = 25;
/** Any workload that has not finished in this long is stuck, not slow. */
const STUCK_MS = 180_000;

export interface Workers {
  /** Start latencies reported so far (ms), in arrival order. */
  latencies: number[];
  stop(): Promise<void>;
}

/** Starts `count` worker processes (under `rateLimit`, if given) and resolves once every one is consuming. */
export async function startWorkers(system: BenchSystem, servers: BenchServers, count: number, rateLimit?: BenchRateLimit): Promise<Workers> {
  const latencies: number[] = [];
  const children: ChildProcess[] = [];
  await Promise.all(
    Array.from({ length: count }, () => {
      const child = fork(WORKER_SCRIPT, [system.name, String(SLOTS)], {
        execArgv: childExecArgv(),
        env: { ...process.env, BENCH_SERVERS: JSON.stringify(servers), ...(rateLimit ? { BENCH_RATE_LIMIT: JSON.stringify(rateLimit) } : {}) },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      children.push(child);
      child.on('message', (m: { type: string; latencies?: number[] }) => {
        if (m.type === 'starts') for (const l of m.latencies!) latencies.push(l);
      });
      return new Promise<void>((resolve, reject) => {
        child.on('message', (m: { type: string }) => m.type === 'ready' && resolve());
        child.once('exit', (code) => reject(new Error(`${system.name} worker exited with ${code} before it was ready`)));
      });
    }),
  );
  return {
    latencies,
    stop: async () => {
      await Promise.all(children.map((c) => new Promise<void>((resolve) => {
        if (c.exitCode !== null) return resolve();
        c.once('exit', () => resolve());
        c.send({ type: 'stop' });
      })));
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every POLL_MS until it holds; fails once STUCK_MS pass. */
export async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + STUCK_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`stuck: ${what} after ${STUCK_MS} ms`);
    await sleep(POLL_MS);
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

export type Metrics = Record<string, number>;

/** `total` jobs enqueued, then `processes` worker processes (under `rateLimit`, if given): jobs/s until none is pending. */
export async function drain(system: BenchSystem, servers: BenchServers, processes = 1, total = 20_000, rateLimit?: BenchRateLimit): Promise<Metrics> {
  await system.reset(servers);
  const producer = await system.producer(servers);
  try {
    for (let i = 0; i < total; i += 1000) await producer.enqueueBatch(Array.from({ length: Math.min(1000, total - i) }, () => ({ t: wallClockMs() })));
    const workers = await startWorkers(system, servers, processes, rateLimit);
    const started = performance.now();
    await until(async () => (await producer.pending()) === 0, `${system.name} drain`);
    const seconds = (performance.now() - started) / 1000;
    await workers.stop();
    return { jobsPerSecond: total / seconds };
  } finally {
    await producer.close();
  }
}

export async function enqueue(system: BenchSystem, servers: BenchServers, total = 10_000, inFlight = 16): Promise<Metrics> {
  await system.reset(servers);
  const producer = await system.producer(servers);
  try {
    const calls: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < total) {
        next++;
        const t = performance.now();
        await producer.enqueue({ t: wallClockMs() });
        calls.push(performance.now() - t);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    return { enqueuesPerSecond: total / seconds, callP50Ms: percentile(calls, 50), callP99Ms: percentile(calls, 99) };
  } finally {
    await producer.close();
  }
}

/** Enqueues at a fixed rate without waiting on each call, as independent producers would. */
async function offer(producer: { enqueue(p: BenchPayload): Promise<void> }, total: number, everyMs: number, perTick: number): Promise<number> {
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let sent = 0, tick = 0; sent < total; tick++) {
    const due = started + tick * everyMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    for (let k = 0; k < perTick && sent < total; k++, sent++) pending.push(producer.enqueue({ t: wallClockMs() }));
  }
  await Promise.all(pending);
  return (performance.now() - started) / 1000;
}

/**
 * A second of the workload's own pace, run to the end and not counted: every system's producer
 * pool and worker connections are opened, and their statements planned, before the measured jobs.
 * Without it the first jobs of a run waited on new PostgreSQL connections (each tens of ms here,
 * one per enqueue in flight), a one-time stall of ~200 ms that made the p99 of latency and
 * steady, for Drover and graphile-worker alike, a figure of the harness's cold start.
 */
async function warmUp(system: BenchSystem, producer: BenchProducer, workers: Workers, everyMs: number, perTick: number): Promise<void> {
  const jobs = Math.round((1000 / everyMs) * perTick);
  await offer(producer, jobs, everyMs, perTick);
  await until(() => workers.latencies.length >= jobs, `${system.name} warm-up`);
  await until(async () => (await producer.pending()) === 0, `${system.name} warm-up outcomes`);
  workers.latencies.splice(0);
}

export async function latency(system: BenchSystem, servers: BenchServers, total = 2_000): Promise<Metrics> {
  await system.reset(servers);
  const producer = await system.producer(servers);
  const workers = await startWorkers(system, servers, 1);
  try {
    await warmUp(system, producer, workers, 5, 1);
    // Idle first: the workers have settled into waiting.
    await sleep(500);
    await offer(producer, total, 5, 1);
    await until(() => workers.latencies.length >= total, `${system.name} latency starts`);
    const l = workers.latencies;
    return { p50Ms: percentile(l, 50), p95Ms: percentile(l, 95), p99Ms: percentile(l, 99), maxMs: Math.max(...l) };
  } finally {
    await workers.stop();
    await producer.close();
  }
}

export async function steady(system: BenchSystem, servers: BenchServers, rate = 1_000, seconds = 20): Promise<Metrics> {
  await system.reset(servers);
  const producer = await system.producer(servers);
  const workers = await startWorkers(system, servers, 1);
  try {
    await warmUp(system, producer, workers, 10, rate / 100);
    await sleep(500);
    const total = rate * seconds;
    const started = performance.now();
    // 10 jobs every 10 ms: 1,000/s without a timer per job.
    const offeredSeconds = await offer(producer, total, 10, rate / 100);
    // Completed (outcome recorded by the system) by the end of the offer.
    const completedDuring = total - (await producer.pending());
    // Keeping up: the backlog left when the offer ends clears within one second.
    const keptUp = await until(() => workers.latencies.length >= total, `${system.name} steady`).then(() => (performance.now() - started) / 1000 <= offeredSeconds + 1);
    return {
      offeredPerSecond: total / offeredSeconds,
      completedPerSecond: completedDuring / offeredSeconds,
      p50Ms: percentile(workers.latencies, 50),
      p99Ms: percentile(workers.latencies, 99),
      keptUp: keptUp ? 1 : 0,
    };
  } finally {
    await workers.stop();
    await producer.close();
  }
}
