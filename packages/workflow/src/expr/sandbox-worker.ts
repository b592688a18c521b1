// The worker thread's side of the sandbox (sandbox.ts is the other): QuickJS runs here, so that a
// block stuck in one long native call can be ended by terminating the thread.
//
// The code is a string run with `new Worker(source, { eval: true })` rather than a file: a worker
// file would exist as .ts under vitest and tsx but as .js in dist, and one path cannot serve both.
// Being a string it is plain CommonJS that tsc does not check, so it stays small: everything that
// does not need QuickJS (validating globals, parsing the result, the error messages of the time
// limit) is done on the main thread. It requires QuickJS by the absolute path the main thread
// resolved (workerData.quickjs), as an eval'd script has no module of its own to resolve from.

/** What the main thread sends: one block run, the globals as JSON text. */
export interface WorkerRequest {
  readonly code: string;
  readonly input: string;
  readonly names: readonly string[];
}

/** What the worker sends back: `started` once QuickJS is loaded and the run begins, then one outcome. */
export type WorkerReply =
  | { readonly kind: 'started' }
  /** The JSON text of `[value, globals]` as the block left them; null if `JSON.stringify` gave no string. */
  | { readonly kind: 'done'; readonly output: string | null }
  | { readonly kind: 'failed'; readonly errorClass: 'normal' | 'fatal'; readonly message: string }
  | { readonly kind: 'timedOut' };

/** The limits the worker applies to each run, given once in workerData. */
export interface WorkerLimits {
  readonly timeLimitMs: number;
  readonly memoryLimitBytes: number;
  readonly maxStackBytes: number;
}

/** The worker's code, for `new Worker(SANDBOX_WORKER_SOURCE, { eval: true, workerData: { quickjs, limits } })`. */
export const SANDBOX_WORKER_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { newQuickJSWASMModule, RELEASE_SYNC } = require(workerData.quickjs);
const { timeLimitMs, memoryLimitBytes, maxStackBytes } = workerData.limits;

// A limit hit or a thrown error of the block, as opposed to a failure of the sandbox itself.
class BlockError extends Error {
  constructor(errorClass, message) {
    super(message);
    this.errorClass = errorClass;
  }
}

let module = null;

// The main thread sends one request at a time and waits for its outcome before the next.
parentPort.on('message', (request) => {
  serve(request).then((reply) => parentPort.postMessage(reply));
});

async function serve({ code, input, names }) {
  let wasm;
  try {
    module ??= newQuickJSWASMModule(RELEASE_SYNC);
    wasm = await module;
  } catch (error) {
    module = null;
    return { kind: 'failed', errorClass: 'fatal', message: 'block stopped: sandbox failure (' + error.message + ')' };
  }
  // The main thread's watchdog starts now: loading QuickJS is not the block's time.
  parentPort.postMessage({ kind: 'started' });
  return runBlock(wasm, code, input, names);
}

// Each run gets a fresh runtime and context, so nothing a block leaves behind reaches the next.
function runBlock(wasm, code, input, names) {
  const runtime = wasm.newRuntime();
  runtime.setMemoryLimit(memoryLimitBytes);
  runtime.setMaxStackSize(maxStackBytes);
  const deadline = Date.now() + timeLimitMs;
  let timedOut = false;
  runtime.setInterruptHandler(() => (timedOut = Date.now() > deadline));
  const context = runtime.newContext();
  // After an interrupt or an out-of-memory error, quickjs-emscripten 0.32 can abort the whole
  // WebAssembly instance when the runtime is freed (JS_FreeRuntime asserts an empty GC list,
  // justjake/quickjs-emscripten#257). Such a runtime is left unfreed and the module dropped
  // with it: the garbage collector takes both, and the next run loads a fresh module.
  let poisoned = false;
  try {
    return { kind: 'done', output: evaluate(context, code, input, names) };
  } catch (error) {
    if (error instanceof BlockError) {
      poisoned = error.errorClass === 'fatal';
      if (timedOut) return { kind: 'timedOut' };
      return { kind: 'failed', errorClass: error.errorClass, message: error.message };
    }
    poisoned = true;
    return { kind: 'failed', errorClass: 'fatal', message: 'block stopped: sandbox failure (' + error.message + ')' };
  } finally {
    if (poisoned) {
      module = null;
    } else {
      context.dispose();
      runtime.dispose();
    }
  }
}

function evaluate(context, code, input, names) {
  const handle = context.newString(input);
  context.setProp(context.global, '__droverInput', handle);
  handle.dispose();
  settle(context, context.evalCode(
    '(() => { const g = JSON.parse(globalThis.__droverInput); delete globalThis.__droverInput;' +
      ' for (const k of Object.keys(g)) globalThis[k] = g[k]; })()',
    'prelude.js',
  )).dispose();

  const value = settle(context, context.evalCode(code, 'block.js'));
  context.setProp(context.global, '__droverValue', value);
  value.dispose();
  // Bare names, not globalThis properties: a block may have rebound a scope (v = {...}).
  const read = (name) => 'typeof ' + name + " === 'undefined' ? null : " + name;
  const fields = names.map((name) => name + ': ' + read(name)).join(', ');
  const output = settle(context, context.evalCode(
    'JSON.stringify([' + read('__droverValue') + ', {' + fields + '}])',
    'result.js',
  ));
  const text = context.typeof(output) === 'string' ? context.getString(output) : null;
  output.dispose();
  return text;
}

// The value of an evaluation, or its error as a BlockError (fatal for a limit hit).
function settle(context, result) {
  if (!result.error) return result.value;
  const dumped = context.dump(result.error);
  result.error.dispose();
  const { name, message } = describe(dumped);
  if (name === 'InternalError' && (message === 'out of memory' || message === 'stack overflow' || message === 'interrupted')) {
    throw new BlockError('fatal', 'block stopped: ' + message);
  }
  throw new BlockError('normal', 'block failed: ' + (name ? name + ': ' : '') + message);
}

function describe(dumped) {
  if (typeof dumped === 'object' && dumped !== null && 'message' in dumped) {
    return { name: typeof dumped.name === 'string' ? dumped.name : '', message: String(dumped.message) };
  }
  return { name: '', message: typeof dumped === 'string' ? dumped : JSON.stringify(dumped) ?? String(dumped) };
}
`;
