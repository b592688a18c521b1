// The sandbox for JCL's inline blocks. JobCenter runs its `[[ … ]]` blocks as Perl in a Safe
// compartment inside PostgreSQL; Drover's blocks are JavaScript, run by QuickJS compiled to
// WebAssembly (quickjs-emscripten, sync release build). A block sees only the ECMAScript
// built-ins and the globals it is given: no process, require, import, fetch, timers or console,
// and nothing of the host's objects. Values cross the boundary as JSON text only.
//
// Each run gets a fresh QuickJS runtime and context, so nothing a block leaves behind reaches the
// next one. Limits: a wall-clock deadline polled by QuickJS's interrupt handler, a heap limit and
// a stack limit. Hitting one is a `fatal` WorkflowError: a runaway block would run away again on
// a retry (JobCenter treats its runaway limits, max_steps and max_depth, as fatal too).
//
// QuickJS polls its deadline between bytecode instructions, not inside a native built-in, so a
// loop whose body is one long native call (`s.split('').join('')` on a 100 kB string) would
// overrun it by tens of seconds. The hard bound: QuickJS runs in a worker thread
// (sandbox-worker.ts), and a watchdog here terminates that thread when a run outlives its time
// limit by a grace of max(250 ms, a quarter of the limit). The run fails as a soft timeout does;
// the next run, and any queued behind it, go to a fresh worker. The grace lets the soft deadline,
// which keeps the worker and its loaded module, end every block that polls; the watchdog is for
// the blocks that do not.
//
// One worker per sandbox, started on first use and reused: starting a thread and loading the
// WebAssembly module costs far more than a block. Runs are sent one at a time, so a run's
// watchdog times only that run. The worker is unref'd while idle, so an idle sandbox never keeps
// the process alive.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Json } from '../ast.js';
import { type JsonObject, WorkflowError } from '../ports.js';
import { SANDBOX_WORKER_SOURCE, type WorkerLimits, type WorkerReply, type WorkerRequest } from './sandbox-worker.js';

/** Limits for one block run. */
export interface SandboxOptions {
  /**
   * Wall-clock limit per run, in milliseconds. Default 1000: a block is a one-line computation
   * between steps of a workflow, and the engine's step runs in a database transaction that must
   * not stay open for long.
   */
  readonly timeLimitMs?: number;
  /**
   * Heap limit per run, in bytes. Default 32 MiB: room for a workflow state of a few MiB, copied a
   * few times over, while a few concurrent runs stay far below a process's memory.
   */
  readonly memoryLimitBytes?: number;
  /**
   * QuickJS's stack limit, in bytes. Default 256 KiB: QuickJS in WebAssembly recurses on the
   * host's native stack, and at 1 MiB Node's own stack overflows first (a host RangeError
   * instead of a clean `stack overflow` in the block).
   */
  readonly maxStackBytes?: number;
}

/** What a block run leaves: its completion value and the globals it was given, as they are now. */
export interface SandboxResult {
  readonly value: Json;
  readonly globals: JsonObject;
}

/** Runs JavaScript code with the given JSON values as globals. */
export interface Sandbox {
  /**
   * Runs `code` as a script with each key of `globals` a global variable. The value is the
   * script's completion value (the last expression statement's, as `eval` gives it; null when
   * undefined); `globals` holds each given global's value after the run. A thrown error is a
   * `normal` WorkflowError; a limit hit is a `fatal` one. Promises never settle (no job queue).
   */
  run(code: string, globals: JsonObject): Promise<SandboxResult>;
}

const DEFAULT_TIME_LIMIT_MS = 1000;
const DEFAULT_MEMORY_LIMIT_BYTES = 32 * 1024 * 1024;
const DEFAULT_MAX_STACK_BYTES = 256 * 1024;
/**
 * The least time past its limit a run gets before its worker is terminated. The soft deadline
 * ends a polling block within milliseconds of the limit; 250 ms more keeps a loaded machine's
 * late timers and message delivery from killing a worker that was about to answer.
 */
const MIN_GRACE_MS = 250;
const GLOBAL_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A sandbox for inline blocks; starts its worker thread and loads QuickJS on first use. */
export function createSandbox(options: SandboxOptions = {}): Sandbox {
  return createSandboxOn(SANDBOX_WORKER_SOURCE, options);
}

interface Job {
  readonly request: WorkerRequest;
  resolve(result: SandboxResult): void;
  reject(error: Error): void;
}

/**
 * `createSandbox` with the worker's code given: the tests give one that crashes on cue. Not part
 * of the package's API.
 */
export function createSandboxOn(workerSource: string, options: SandboxOptions = {}): Sandbox {
  const limits: WorkerLimits = {
    timeLimitMs: options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS,
    memoryLimitBytes: options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES,
    maxStackBytes: options.maxStackBytes ?? DEFAULT_MAX_STACK_BYTES,
  };
  const hardLimitMs = limits.timeLimitMs + Math.max(MIN_GRACE_MS, limits.timeLimitMs / 4);
  const queue: Job[] = [];
  let worker: Worker | null = null;
  let inFlight: Job | null = null;
  let watchdog: NodeJS.Timeout | undefined;

  function next(): void {
    if (inFlight !== null) return;
    const job = queue.shift();
    if (job === undefined) {
      worker?.unref();
      return;
    }
    inFlight = job;
    try {
      worker ??= spawn();
    } catch (error) {
      // Not even a thread (QuickJS not resolvable, no resources): this run fails, the next tries anew.
      lose((error as Error).message);
      return;
    }
    worker.ref();
    worker.postMessage(job.request);
  }

  function spawn(): Worker {
    const quickjs = createRequire(import.meta.url).resolve('quickjs-emscripten');
    // execArgv: [] so that the worker does not start the host's loaders (tsx) it has no use for.
    const spawned = new Worker(workerSource, { eval: true, execArgv: [], workerData: { quickjs, limits } });
    // Events of a worker already replaced (terminated by the watchdog) are of no run's concern.
    spawned.on('message', (reply: WorkerReply) => {
      if (spawned === worker) answer(reply);
    });
    spawned.on('error', (error) => {
      // A worker may throw anything, not only an Error.
      if (spawned === worker) lose(error instanceof Error ? error.message : String(error));
    });
    spawned.on('exit', (code) => {
      if (spawned === worker) lose(`worker exited with code ${code}`);
    });
    return spawned;
  }

  function answer(reply: WorkerReply): void {
    switch (reply.kind) {
      case 'started': {
        const running = worker;
        watchdog = setTimeout(() => {
          if (running === worker) drop(timeLimitError(limits.timeLimitMs));
        }, hardLimitMs);
        return;
      }
      case 'done':
        finish((job) => {
          try {
            job.resolve(parseOutput(reply.output));
          } catch (error) {
            job.reject(error as Error);
          }
        });
        return;
      case 'failed':
        finish((job) => job.reject(new WorkflowError(reply.errorClass, reply.message)));
        return;
      case 'timedOut':
        finish((job) => job.reject(timeLimitError(limits.timeLimitMs)));
        return;
    }
  }

  function finish(settle: (job: Job) => void): void {
    clearTimeout(watchdog);
    const job = inFlight;
    inFlight = null;
    if (job !== null) settle(job);
    next();
  }

  /** A crashed worker: its run fails as a sandbox failure, the next one gets a fresh worker. */
  function lose(reason: string): void {
    drop(new WorkflowError('fatal', `block stopped: sandbox failure (${reason})`));
  }

  /** Ends the current worker, failing its run with `error`; queued runs go to a fresh worker. */
  function drop(error: WorkflowError): void {
    const ended = worker;
    worker = null;
    if (ended !== null) {
      // Unref'd so that a thread still winding down cannot hold the process; how it ends (its exit
      // code, or an error from a thread already gone) is of no run's concern.
      ended.unref();
      ended.terminate().catch(() => undefined);
    }
    finish((job) => job.reject(error));
  }

  return {
    run(code, globals) {
      for (const name of Object.keys(globals)) {
        if (!GLOBAL_NAME.test(name)) return Promise.reject(new Error(`sandbox global ${JSON.stringify(name)} is not an identifier`));
      }
      return new Promise<SandboxResult>((resolve, reject) => {
        queue.push({ request: { code, input: JSON.stringify(globals), names: Object.keys(globals) }, resolve, reject });
        next();
      });
    },
  };
}

function timeLimitError(timeLimitMs: number): WorkflowError {
  return new WorkflowError('fatal', `block stopped: time limit of ${timeLimitMs} ms exceeded`);
}

/** The worker's `[value, globals]` JSON text as a result; a `normal` error if it is not that shape. */
function parseOutput(output: string | null): SandboxResult {
  let parsed: unknown;
  try {
    parsed = output === null ? null : JSON.parse(output);
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[1] !== 'object' || parsed[1] === null) {
    throw new WorkflowError('normal', 'block result is not JSON (was the JSON global replaced?)');
  }
  return { value: parsed[0] as Json, globals: parsed[1] as JsonObject };
}
