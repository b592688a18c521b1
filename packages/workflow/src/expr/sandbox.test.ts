import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WorkflowError } from '../ports.js';
import { createSandbox, createSandboxOn } from './sandbox.js';
import { SANDBOX_WORKER_SOURCE } from './sandbox-worker.js';

const sandbox = createSandbox();

async function failure(promise: Promise<unknown>): Promise<WorkflowError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowError);
  return error as WorkflowError;
}

describe('sandbox', () => {
  it('gives the completion value of the last expression statement', async () => {
    expect((await sandbox.run('const x = 2; x * 21', {})).value).toBe(42);
    expect((await sandbox.run('if (true) { "yes" } else { "no" }', {})).value).toBe('yes');
    expect((await sandbox.run('let y = 1', {})).value).toBeNull();
  });

  it('round-trips JSON values through globals and back', async () => {
    const v = { s: 'ünï €', n: -1.5e-7, b: false, z: null, list: [1, [2, { deep: 'x' }]], '__proto__': 'kept' };
    const run = await sandbox.run('v.added = v.list.length; v', { v });
    expect(run.value).toEqual({ ...v, added: 2 });
    expect(run.globals.v).toEqual({ ...v, added: 2 });
    expect(Object.getPrototypeOf(run.globals.v)).toBe(Object.prototype);
  });

  it('returns the globals as the block left them, rebound or mutated', async () => {
    const run = await sandbox.run('v = { fresh: true }; t.x = 1; undefined', { v: { old: 1 }, t: {} });
    expect(run.globals).toEqual({ v: { fresh: true }, t: { x: 1 } });
    expect(run.value).toBeNull();
  });

  it('has no process, require, fetch, timers, console or host globals', async () => {
    const probe = '[typeof process, typeof require, typeof fetch, typeof setTimeout, typeof console, typeof Buffer, typeof globalThis.module]';
    expect((await sandbox.run(probe, {})).value).toEqual(Array(7).fill('undefined'));
  });

  it('cannot read process.env or require fs', async () => {
    expect((await failure(sandbox.run('process.env.HOME', {}))).message).toMatch(/process.*not defined/);
    expect((await failure(sandbox.run('require("fs").readFileSync("/etc/passwd", "utf8")', {}))).message).toMatch(/require.*not defined/);
    expect((await failure(sandbox.run('fetch("http://127.0.0.1:5432")', {}))).message).toMatch(/fetch.*not defined/);
  });

  it('cannot see the worker thread it runs in', async () => {
    const probe = '[typeof parentPort, typeof workerData, typeof require, typeof module, typeof __filename, typeof process, typeof postMessage, typeof onmessage]';
    expect((await sandbox.run(probe, {})).value).toEqual(Array(8).fill('undefined'));
    expect((await failure(sandbox.run('require("node:worker_threads").parentPort.postMessage({ kind: "done", output: "[1, {}]" })', {}))).message)
      .toMatch(/require.*not defined/);
  });

  it('cannot import: a static import is a syntax error, a dynamic one never delivers a module', async () => {
    expect((await failure(sandbox.run('import fs from "fs"; fs', {}))).errorClass).toBe('normal');
    const run = await sandbox.run('let got = "nothing"; import("fs").then((m) => { got = m; }); got', {});
    expect(run.value).toBe('nothing');
  });

  it('does not leak one run\'s globals into the next', async () => {
    await sandbox.run('globalThis.leak = 1; var alsoLeak = 2', {});
    expect((await sandbox.run('[typeof leak, typeof alsoLeak]', {})).value).toEqual(['undefined', 'undefined']);
  });

  it('turns a thrown error into a normal WorkflowError with its message', async () => {
    const error = await failure(sandbox.run('throw new TypeError("bad input")', {}));
    expect(error.errorClass).toBe('normal');
    expect(error.message).toContain('TypeError: bad input');
    expect((await failure(sandbox.run('throw 5', {}))).message).toContain('5');
    expect((await failure(sandbox.run('this is not javascript', {}))).message).toContain('SyntaxError');
  });

  it('stops an infinite loop at its time limit with a fatal error', async () => {
    const quick = createSandbox({ timeLimitMs: 200 });
    const started = Date.now();
    const error = await failure(quick.run('while (true) {}', {}));
    const took = Date.now() - started;
    expect(error.errorClass).toBe('fatal');
    expect(error.message).toContain('time limit of 200 ms');
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2000);
    // The sandbox is still usable after a runaway (its poisoned module is replaced).
    expect((await quick.run('1 + 1', {})).value).toBe(2);
  });

  it('an error thrown by the time limit cannot be caught by the block', async () => {
    const quick = createSandbox({ timeLimitMs: 100 });
    const error = await failure(quick.run('for (;;) { try { while (true) {} } catch (e) { } }', {}));
    expect(error.errorClass).toBe('fatal');
  });

  it('stops a memory bomb with a fatal error and stays usable', async () => {
    const small = createSandbox({ memoryLimitBytes: 8 * 1024 * 1024, timeLimitMs: 5000 });
    const error = await failure(small.run('const keep = []; for (;;) keep.push({ n: keep.length, s: "x" + keep.length })', {}));
    expect(error.errorClass).toBe('fatal');
    expect(error.message).toContain('out of memory');
    expect((await small.run('"still here"', {})).value).toBe('still here');
  });

  it('stops unbounded recursion with a fatal stack overflow', async () => {
    const error = await failure(sandbox.run('function f(n) { return f(n + 1) + 1 } f(0)', {}));
    expect(error.errorClass).toBe('fatal');
    expect(error.message).toContain('stack overflow');
  });

  it('rejects a result that is not JSON', async () => {
    expect((await failure(sandbox.run('const o = {}; o.self = o; o', {}))).errorClass).toBe('normal');
    expect((await failure(sandbox.run('JSON = { stringify: () => "nope" }; 1', {}))).message).toContain('not JSON');
    expect((await failure(sandbox.run('JSON = null; 1', {}))).errorClass).toBe('normal');
    // Values without a JSON form become null, as JSON.stringify makes them.
    expect((await sandbox.run('[undefined, () => 1, NaN]', {})).value).toEqual([null, null, null]);
  });

  it('ends a loop around a long native call, which the soft deadline misses, by terminating its worker', async () => {
    const quick = createSandbox({ timeLimitMs: 200 });
    // QuickJS polls its deadline between bytecodes; each split/join of 100 kB is one native call
    // (without the watchdog this block ran for over 30 s).
    const error = await failure(quick.run("let s = 'x'.repeat(100000); for (;;) { s = s.split('').join(''); }", {}));
    expect(error.errorClass).toBe('fatal');
    expect(error.message).toContain('time limit of 200 ms exceeded');
    // The next run goes to a fresh worker.
    expect((await quick.run('v.n * 2', { v: { n: 21 } })).value).toBe(42);
  }, 30_000);

  it('runs queued behind a terminated run go to the fresh worker', async () => {
    const quick = createSandbox({ timeLimitMs: 200 });
    const runaway = failure(quick.run("let s = 'x'.repeat(100000); for (;;) { s = s.split('').join(''); }", {}));
    const queued = [1, 2, 3].map((n) => quick.run('n * 10', { n }));
    expect((await runaway).message).toContain('time limit of 200 ms exceeded');
    expect((await Promise.all(queued)).map((run) => run.value)).toEqual([10, 20, 30]);
  }, 30_000);

  it('settles concurrent runs each with its own result', async () => {
    const many = createSandbox();
    const runs = Array.from({ length: 12 }, (_, n) => many.run(n % 4 === 3 ? 'throw new Error("no " + n)' : 'v.n = n; n * n', { n, v: {} }));
    const settled = await Promise.allSettled(runs);
    settled.forEach((outcome, n) => {
      if (n % 4 === 3) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toMatchObject({ errorClass: 'normal', message: `block failed: Error: no ${n}` });
      } else {
        expect(outcome).toEqual({ status: 'fulfilled', value: { value: n * n, globals: { n, v: { n } } } });
      }
    });
  });

  it('fails the run of a crashed worker as a sandbox failure, and the next run gets a fresh worker', async () => {
    // The real worker, behind one that crashes on cue: by exiting, or by an uncaught error.
    const crashing = createSandboxOn(
      "{ const { parentPort } = require('node:worker_threads');" +
        " parentPort.on('message', (m) => { if (m.code === 'exit') process.exit(7); if (m.code === 'throw') throw new Error('boom'); }); }\n" +
        SANDBOX_WORKER_SOURCE,
    );
    expect((await crashing.run('1 + 1', {})).value).toBe(2);
    const exited = await failure(crashing.run('exit', {}));
    expect(exited.errorClass).toBe('fatal');
    expect(exited.message).toBe('block stopped: sandbox failure (worker exited with code 7)');
    expect((await crashing.run('2 + 2', {})).value).toBe(4);
    const thrown = await failure(crashing.run('throw', {}));
    expect(thrown.errorClass).toBe('fatal');
    expect(thrown.message).toBe('block stopped: sandbox failure (boom)');
    expect((await crashing.run('3 + 3', {})).value).toBe(6);
  });

  it('fails every run, none left pending, when its worker cannot start', async () => {
    const broken = createSandboxOn('this is not javascript');
    const errors = await Promise.all([failure(broken.run('1', {})), failure(broken.run('2', {}))]);
    for (const error of errors) {
      expect(error.errorClass).toBe('fatal');
      expect(error.message).toMatch(/^block stopped: sandbox failure \(.*Unexpected identifier/);
    }
  });

  it('does not keep the process alive while idle, after a run or a terminated one', async () => {
    const index = fileURLToPath(new URL('../index.ts', import.meta.url));
    const script = `import { createSandbox } from ${JSON.stringify(index)};
      const sandbox = createSandbox({ timeLimitMs: 100 });
      const ended = await sandbox.run("let s = 'x'.repeat(100000); for (;;) { s = s.split('').join(''); }", {}).catch((e) => e.message);
      console.log(JSON.stringify([ended, (await sandbox.run('6 * 7', {})).value]));`;
    // No process.exit: the child ends only if nothing of the sandbox holds its event loop.
    const child = spawn(process.execPath, ['--conditions=drover-source', '--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill();
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(['block stopped: time limit of 100 ms exceeded', 42]);
  }, 60_000);

  it('refuses a global name that is not an identifier', async () => {
    await expect(sandbox.run('1', { 'a-b': 1 })).rejects.toThrow(/not an identifier/);
  });
});
