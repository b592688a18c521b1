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
  /** Runs in a worker process: consume with `concurrency` slots, calling `onStart` at each handler start. */
  worker(servers: BenchServers, concurrency: number, onStart: (payload: BenchPayload) => void): Promise<BenchWorker>;
  /** Stops helper processes started by reset. */
  shutdown(): Promise<void>;
}

/**
 * Milliseconds since the epoch with sub-millisecond resolution, comparable across the processes of
 * one machine: Date.now() counts whole milliseconds, too coarse for latencies of one or two.
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
