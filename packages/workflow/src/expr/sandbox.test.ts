import { describe, expect, it } from 'vitest';
import { WorkflowError } from '../ports.js';
import { createSandbox } from './sandbox.js';

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

  it('refuses a global name that is not an identifier', async () => {
    await expect(sandbox.run('1', { 'a-b': 1 })).rejects.toThrow(/not an identifier/);
  });
});
