import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Json, WorkflowUnit } from '../ast.js';
import type { Advance, JsonObject } from '../ports.js';
import {
  bin, call, callflow, detachflow, evalS, interfaceCall, lit, lockSpec, magic, mapS, param, raiseError, ref, set, split, tryS, workflow,
} from '../test-support/ast-builders.js';
import { drive, type DriveOptions, type TestAction } from './test-support/driver.js';
import { compile, testMachine } from './test-support/fixtures.js';
import { World } from './test-support/memory-host.js';

const actions: { [name: string]: TestAction } = {
  add: (arg) => ({ sum: (arg.x as number) + ((arg.y as number | undefined) ?? 0) }),
  fail: () => {
    throw new Error('worker says no');
  },
  echo: (arg) => ({ value: arg.value ?? null }),
  'bad-out': () => ({ n: 'not a number' }),
  square: (arg) => ({ area: (arg.size as number) ** 2 }),
  circle: (arg) => ({ area: Math.round(3.14 * (arg.size as number) ** 2) }),
};

const childFlow = compile(
  workflow('child-flow', [evalS(set('d', bin(ref('a.n'), '+', ref('a.n'))))], {
    in: [param('n', 'number')], out: [param('doubled', 'number')], wfomap: [set('doubled', ref('v.d'))],
  }),
);

async function run(unit: WorkflowUnit, extra: Partial<DriveOptions> = {}) {
  const world = new World();
  const waits: Advance[] = [];
  const result = await drive({
    machine: testMachine, world, program: compile(unit), actions, workflows: { 'child-flow': childFlow },
    onWait: (a) => waits.push(a), ...extra,
  });
  return { ...result, world, waitAdvances: waits };
}

async function output(body: WorkflowUnit['body'], extra: Partial<DriveOptions> = {}): Promise<JsonObject> {
  const { end } = await run(workflow('flow', body, { wfomap: [magic()] }), extra);
  if (end.kind !== 'completed') throw new Error(`run failed: ${JSON.stringify(end)}`);
  return end.output;
}

describe('step machine: call', () => {
  it('calls an action with the input map, waits, and maps its output', async () => {
    const { end, world, waits } = await run(
      workflow('f', [evalS(set('base', 40)), call('add', [set('x', ref('v.base')), set('y', 2)], [set('total', ref('o.sum'))])], { wfomap: [magic()] }),
    );
    expect(end).toMatchObject({ kind: 'completed', output: { base: 40, total: 42 } });
    expect(waits).toEqual([{ kind: 'children', jobIds: ['job-1'] }]);
    expect(world.children.get('job-1')).toMatchObject({ name: 'add', arg: { x: 40, y: 2 }, detached: false, parent: 'job-root' });
  });

  it('calls a child workflow, which runs with depth + 1', async () => {
    expect(await output([call('child-flow', [set('n', 21)], [set('r', ref('o.doubled'))])])).toEqual({ r: 42 });
  });

  it('a failed child raises childerror, with the child error inside, which try catches', async () => {
    const out = await output([tryS([call('fail'), evalS(set('unreached', true))], [evalS(set('err', ref('e._error')))])]);
    expect(out).toEqual({ err: { class: 'childerror', msg: 'childjob job-1 raised error', error: { class: 'normal', msg: 'worker says no' } } });
  });

  it("a child workflow's own childerror reaches the parent nested inside the parent's", async () => {
    const failing = compile(workflow('child-flow', [call('fail')], { in: [param('n', 'number')], out: [param('doubled', 'number')] }));
    const { end } = await run(workflow('f', [call('child-flow', [set('n', 1)])]), { workflows: { 'child-flow': failing } });
    expect(end).toMatchObject({
      kind: 'failed',
      error: { class: 'childerror', msg: 'childjob job-1 raised error', error: { class: 'childerror', msg: 'childjob job-2 raised error', error: { msg: 'worker says no' } } },
    });
  });

  it('an uncaught childerror fails the run', async () => {
    const { end } = await run(workflow('f', [call('fail')]));
    expect(end).toMatchObject({ kind: 'failed', error: { class: 'childerror' } });
  });

  it("a child's output of the wrong type is an outargs error (catchable) before the output map runs", async () => {
    const out = await output([tryS([call('bad-out', [], [set('n', ref('o.n'))])], [evalS(set('err', ref('e._error.class')))])]);
    expect(out).toEqual({ err: 'outargs' });
  });

  it('input not matching the callee at run time is an inargs error and starts no child', async () => {
    const { end, world } = await run(workflow('f', [call('add', [set('x', bin(lit('4'), '.', lit('2')))])]));
    expect(end).toMatchObject({ kind: 'failed', error: { class: 'inargs', msg: expect.stringContaining('input argument x has the wrong type') as unknown } });
    expect(world.children.size).toBe(0);
  });

  it('passes inheritLocks when some lock is declared inherit', async () => {
    const { world } = await run(workflow('f', [call('echo')], { locks: [lockSpec('res', 'r1', { inherit: true })] }));
    expect(world.children.get('job-1')?.inheritLocks).toBe(true);
  });
});

describe('step machine: split and map', () => {
  it('split starts every child, waits for all, and runs the output maps in order', async () => {
    const out = await output([
      split(
        callflow('echo', [set('value', 'first')], [set('order', ref('o.value'))]),
        callflow('echo', [set('value', 'second')], [set('order', bin(ref('v.order'), '.', ref('o.value')))]),
        callflow('child-flow', [set('n', 5)], [set('ten', ref('o.doubled'))]),
      ),
    ], { oneAtATime: true });
    expect(out).toEqual({ order: 'firstsecond', ten: 10 });
  });

  it('map of 100 children collects in order, with e._v and e._i in the input map, across 100 wakes', async () => {
    const items = Array.from({ length: 100 }, (_, i) => i * 3);
    const { end, waitAdvances } = await run(
      workflow('f', [evalS(set('list', items), set('seen', '')), mapS('add', ref('v.list'), [set('x', ref('e._v')), set('y', ref('e._i'))], [set('seen', bin(bin(ref('v.seen'), '.', ref('o.sum')), '.', lit(',')))])], {
        wfomap: [set('seen', ref('v.seen'))],
      }),
      { oneAtATime: true },
    );
    expect(end).toMatchObject({ kind: 'completed', output: { seen: items.map((x, i) => `${x + i},`).join('') } });
    expect(waitAdvances).toHaveLength(100);
    // The first wait lists all 100; each wake takes one outcome in.
    const pendingAt = (n: number): number => {
      const a = waitAdvances[n];
      return a?.kind === 'waiting' && a.waiting.kind === 'children' ? a.waiting.jobIds.length : -1;
    };
    expect(pendingAt(0)).toBe(100);
    expect(pendingAt(99)).toBe(1);
  });

  it('a map over an empty array starts nothing and goes on', async () => {
    expect(await output([mapS('add', lit([]), [set('x', ref('e._v'))], [set('any', true)]), evalS(set('done', true))])).toEqual({ done: true });
  });

  it('map using something not an array is an error', async () => {
    const { end } = await run(workflow('f', [mapS('add', lit('nope'), [set('x', 1)], [])]));
    expect(end).toMatchObject({ kind: 'failed', error: { class: 'normal', msg: 'map add: using must give an array' } });
  });

  it('a failing child of a split cancels the others still running and raises childerror', async () => {
    const { end, world } = await run(
      workflow('f', [split(callflow('echo'), callflow('echo'), callflow('fail'))]),
      { oneAtATime: true },
    );
    expect(end).toMatchObject({ kind: 'failed', error: { class: 'childerror', msg: 'childjob job-3 raised error' } });
    expect(world.cancelled).toEqual(['job-1', 'job-2']);
  });

  it('an input error midway through a map cancels the children already started', async () => {
    const { end, world } = await run(workflow('f', [mapS('add', lit([1, 'two', 3]), [set('x', ref('e._v'))], [])]));
    expect(end).toMatchObject({ kind: 'failed', error: { class: 'inargs' } });
    expect(world.cancelled).toEqual(['job-1']);
    expect(world.children.size).toBe(1);
  });
});

describe('step machine: interface call and detachflow', () => {
  it('the selector picks the destination', async () => {
    const body = (kind: Json) => [evalS(set('kind', kind)), interfaceCall('shape', ['square', 'circle'], ref('v.kind'), [set('size', 2)], [set('area', ref('o.area'))])];
    expect(await output(body('square'))).toMatchObject({ area: 4 });
    expect(await output(body('circle'))).toMatchObject({ area: 13 });
    const { end } = await run(workflow('f', body('triangle')));
    expect(end).toMatchObject({ kind: 'failed', error: { class: 'normal', msg: 'interface shape has no destination "triangle"' } });
  });

  it('detachflow starts a detached child and does not wait for it', async () => {
    const { end, world, waits } = await run(workflow('f', [detachflow('child-flow', [set('n', 1)]), evalS(set('after', true))], { wfomap: [magic()] }));
    expect(end).toMatchObject({ kind: 'completed', output: { after: true } });
    expect(waits).toEqual([]);
    expect(world.children.get('job-1')).toMatchObject({ name: 'child-flow', detached: true, status: 'created' });
  });
});

describe('step machine: persistence and determinism', () => {
  it('the waiting state survives a JSON round trip and a repeated advance gives the same answer', async () => {
    const program = compile(workflow('f', [call('add', [set('x', 1)], [set('r', ref('o.sum'))]), raiseError(lit('after'))]));
    const ctx = { jobId: 'j', depth: 0, args: {} };
    const first = await testMachine.advance(program, null, { kind: 'start' }, ctx, new World().hostFor('j'));
    expect(first.kind).toBe('waiting');
    if (first.kind !== 'waiting') return;
    const stored = JSON.parse(JSON.stringify(first.state)) as Json;
    const wake = { kind: 'children' as const, outcomes: [{ jobId: 'job-1', succeeded: true, result: { sum: 1 } }] };
    const a = await testMachine.advance(program, stored, wake, ctx, new World().hostFor('j'));
    const b = await testMachine.advance(program, stored, wake, ctx, new World().hostFor('j'));
    expect(a).toEqual(b);
    expect(a).toMatchObject({ kind: 'failed', error: { msg: 'after' }, steps: 2 });
    // The stored state was not changed by advancing from it.
    expect(stored).toEqual(JSON.parse(JSON.stringify(first.state)));
  });

  it('a wake not meant for the wait (a stray timer, an unknown child) leaves the state as it was', async () => {
    const program = compile(workflow('f', [call('add', [set('x', 1)])]));
    const ctx = { jobId: 'j', depth: 0, args: {} };
    const host = new World().hostFor('j');
    const first = await testMachine.advance(program, null, { kind: 'start' }, ctx, host);
    if (first.kind !== 'waiting') throw new Error('expected a wait');
    expect(await testMachine.advance(program, first.state, { kind: 'timer' }, ctx, host)).toEqual(first);
    const stray = { kind: 'children' as const, outcomes: [{ jobId: 'other', succeeded: false }] };
    expect(await testMachine.advance(program, first.state, stray, ctx, host)).toEqual(first);
  });
});

describe('step machine: stored input it did not write', () => {
  it('property: a state of another shape is refused by name, and the host is not touched', async () => {
    const program = compile(workflow('f', [call('add', [set('x', 1)])]));
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (junk) => {
        const world = new World();
        const wake = { kind: 'timer' as const };
        await expect(testMachine.advance(program, junk as Json, wake, { jobId: 'j', depth: 0, args: {} }, world.hostFor('j'))).rejects.toThrow(
          junk === null ? /without state can only start/ : /workflow state is not a drover-jcl-state\/1 state/,
        );
        expect(world.log).toEqual([]);
      }),
    );
  });

  it('a program of another shape is refused by name', async () => {
    const bad = { name: 'f', version: 1, code: { instrs: [] } };
    await expect(testMachine.advance(bad, null, { kind: 'start' }, { jobId: 'j', depth: 0, args: {} }, new World().hostFor('j'))).rejects.toThrow(
      /compiled workflow code is not a drover-jcl-program\/1 program/,
    );
  });
});
