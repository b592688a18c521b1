/**
 * What the benchmark needs from each job system. The producer side runs in the benchmark's own
 * process; workers run in child processes (src/worker-process.ts), one per requested process,
 * each reporting handler start latencies over IPC. Every system gets the same servers.
 */

/** The servers every system runs against. */
export interface BenchServers {
  databaseUrl: string;
  amqpUrl: string;
  redisUrl: string;
  /**
   * Drover's namespace (its schema, exchange and queues), `bench_drover` unless given: a test gives
   * its own, so that a benchmark running meanwhile on the same servers is left alone.
   */
  namespace?: string;
}

/** A job's payload: its enqueue time, so the worker can measure enqueue → handler start. */
export interface BenchPayload {
  /** {@link wallClockMs} just before the enqueue call. */
  t: number;
}

/** The producer side of a system, in the benchmark process. */
export interface BenchProducer {
  /** Enqueues jobs in one call (or the system's closest bulk API). */
  enqueueBatch(payloads: BenchPayload[]): Promise<void>;
  /** Enqueues one job. */
  enqueue(payload: BenchPayload): Promise<void>;
  /** Jobs not yet completed (waiting, scheduled or running): 0 means drained. */
  pending(): Promise<number>;
  close(): Promise<void>;
}

/** The worker side, in a child process. */
export interface BenchWorker {
  stop(): Promise<void>;
}

/** One system under test. Adapters live in src/systems/<name>.ts and export `system`. */
export interface BenchSystem {
  name: string;
  /** The settings used, as recorded in the report (chosen per each system's docs for speed). */
  settings: Record<string, unknown>;
  /** Drops and recreates this system's state (schema, queue), and starts any helper process it needs. */
  reset(servers: BenchServers): Promise<void>;
  producer(servers: BenchServers): Promise<BenchProducer>;
  /**
   * Runs in a worker process: consume with `concurrency` slots, calling `onStart` at each handler
   * start; with `rateLimit`, under that fleet-wide limit (systems with {@link BenchSystem.rateLimits} only).
   */
  worker(servers: BenchServers, concurrency: number, onStart: (payload: BenchPayload) => void, rateLimit?: BenchRateLimit): Promise<BenchWorker>;
  /** Stops helper processes started by reset. */
  shutdown(): Promise<void>;
  /** The system's JSON-RPC API, for the api-* workloads: Drover's only, as no peer has one. */
  api?: BenchApi;
  /**
   * Whether its worker takes a fleet-wide rate limit kept in Redis (`rateLimit` of
   * {@link BenchSystem.worker}), for the drain-limited workload: Drover's flow control only.
   */
  rateLimits?: boolean;
}

/** At most `max` handler starts in any window of `perMs` ms, across every worker process. */
export interface BenchRateLimit {
  max: number;
  perMs: number;
}

/** Where a JSON-RPC client connects, and as whom. */
export interface ApiCredentials {
  /** `tcp://host:port` of the API. */
  url: string;
  who: string;
  token: string;
}

/** A caller that waits for each job's result, as a `call` through the API does. */
export interface BenchCaller {
  /** Runs one no-op job of the caller's function and resolves once its result is back. */
  call(payload: BenchPayload): Promise<void>;
  close(): Promise<void>;
}

/** What the api-* workloads need besides the API itself; valid after `reset`. */
export interface BenchApi {
  /** Registers an API client that may call and work `funcnames`, and says where the API listens. */
  client(servers: BenchServers, funcnames: string[]): Promise<ApiCredentials>;
  /** A producer of `funcname`'s jobs, as {@link BenchSystem.producer} is for the other workloads. */
  producer(servers: BenchServers, funcname: string): Promise<BenchProducer>;
  /**
   * The same round trip without the API: the system's own client library calls `funcname`, and a
   * worker shim with `slots` slots in this process runs it.
   */
  inProcessCaller(servers: BenchServers, funcname: string, slots: number): Promise<BenchCaller>;
}

/** Whether the benchmark runs from its TypeScript sources (tsx, vitest) rather than compiled. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * Node's flags for a child process of the benchmark (a worker, the controller): the parent's own
 * (so `node --cpu-prof` reaches them too), and, from source, tsx with the drover-source condition
 * when the parent has them not (vitest loads TypeScript by itself), so the child loads the same
 * sources.
 */
export function childExecArgv(): string[] {
  if (!FROM_SOURCE || process.execArgv.some((a) => a.includes('tsx'))) return process.execArgv;
  return [...process.execArgv, '--conditions=drover-source', '--import', 'tsx'];
}

/**
 * Milliseconds since the epoch with sub-millisecond resolution, comparable across the processes of
 * one machine: Date.now() counts whole milliseconds, too coarse for latencies of one or two.
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
