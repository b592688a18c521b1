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
// Known gap: QuickJS polls the interrupt handler between bytecode instructions (every few
// thousand), not inside a native built-in. A loop whose body is one long native call
// (`s.split('').join('')` on a 100 kB string) can overrun the deadline by seconds, and the
// engine's event loop is blocked meanwhile. A hard bound needs the sandbox in a worker thread
// that is terminated on a watchdog timer; that is not done here.
import {
  newQuickJSWASMModule,
  RELEASE_SYNC,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';
import type { Json } from '../ast.js';
import { type JsonObject, WorkflowError } from '../ports.js';

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
const GLOBAL_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A sandbox for inline blocks; loads its WebAssembly module on first use. */
export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const timeLimitMs = options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  const memoryLimitBytes = options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES;
  const maxStackBytes = options.maxStackBytes ?? DEFAULT_MAX_STACK_BYTES;
  let module: Promise<QuickJSWASMModule> | null = null;

  return {
    async run(code, globals) {
      for (const name of Object.keys(globals)) {
        if (!GLOBAL_NAME.test(name)) throw new Error(`sandbox global ${JSON.stringify(name)} is not an identifier`);
      }
      module ??= newQuickJSWASMModule(RELEASE_SYNC);
      const wasm = await module;
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
        return runIn(context, code, globals);
      } catch (error) {
        if (error instanceof WorkflowError) {
          poisoned = error.errorClass === 'fatal';
          if (timedOut) throw new WorkflowError('fatal', `block stopped: time limit of ${timeLimitMs} ms exceeded`);
          throw error;
        }
        poisoned = true;
        throw new WorkflowError('fatal', `block stopped: sandbox failure (${(error as Error).message})`);
      } finally {
        if (poisoned) {
          module = null;
        } else {
          context.dispose();
          runtime.dispose();
        }
      }
    },
  };
}

function runIn(context: QuickJSContext, code: string, globals: JsonObject): SandboxResult {
  const names = Object.keys(globals);
  const input = context.newString(JSON.stringify(globals));
  context.setProp(context.global, '__droverInput', input);
  input.dispose();
  settle(context, context.evalCode(
    '(() => { const g = JSON.parse(globalThis.__droverInput); delete globalThis.__droverInput;' +
      ' for (const k of Object.keys(g)) globalThis[k] = g[k]; })()',
    'prelude.js',
  )).dispose();

  const value = settle(context, context.evalCode(code, 'block.js'));
  context.setProp(context.global, '__droverValue', value);
  value.dispose();
  // Bare names, not globalThis properties: a block may have rebound a scope (`v = {…}`).
  const read = (name: string): string => `typeof ${name} === 'undefined' ? null : ${name}`;
  const output = settle(context, context.evalCode(
    `JSON.stringify([${read('__droverValue')}, {${names.map((name) => `${name}: ${read(name)}`).join(', ')}}])`,
    'result.js',
  ));
  const text = context.typeof(output) === 'string' ? context.getString(output) : null;
  output.dispose();
  let parsed: unknown;
  try {
    parsed = text === null ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[1] !== 'object' || parsed[1] === null) {
    throw new WorkflowError('normal', 'block result is not JSON (was the JSON global replaced?)');
  }
  return { value: parsed[0] as Json, globals: parsed[1] as JsonObject };
}

/** The value of an evaluation, or its error as a WorkflowError (fatal for a limit hit). */
function settle(context: QuickJSContext, result: ReturnType<QuickJSContext['evalCode']>): QuickJSHandle {
  if (!result.error) return result.value;
  const dumped: unknown = context.dump(result.error);
  result.error.dispose();
  const { name, message } = describe(dumped);
  if (name === 'InternalError' && (message === 'out of memory' || message === 'stack overflow' || message === 'interrupted')) {
    throw new WorkflowError('fatal', `block stopped: ${message}`);
  }
  throw new WorkflowError('normal', `block failed: ${name ? `${name}: ` : ''}${message}`);
}

function describe(dumped: unknown): { name: string; message: string } {
  if (typeof dumped === 'object' && dumped !== null && 'message' in dumped) {
    const { name, message } = dumped as { name?: unknown; message?: unknown };
    return { name: typeof name === 'string' ? name : '', message: String(message) };
  }
  return { name: '', message: typeof dumped === 'string' ? dumped : JSON.stringify(dumped) ?? String(dumped) };
}
