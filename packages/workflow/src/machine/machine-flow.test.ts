import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WorkflowUnit } from '../ast.js';
import type { JsonObject } from '../ports.js';
import {
  assertS, bin, caseS, evalS, gotoS, ifS, label, lit, magic, not, param, raiseError, ref, repeatS, returnS, set, tryS, whileS, workflow,
} from '../test-support/ast-builders.js';
import { drive } from './test-support/driver.js';
import { compile, testMachine } from './test-support/fixtures.js';
import { World } from './test-support/memory-host.js';

async function run(unit: WorkflowUnit, args: JsonObject = {}, depth = 0) {
  const world = new World();
  const { end, advances } = await drive({ machine: testMachine, world, program: compile(unit), args, depth });
  return { end, advances, world };
}

/** Runs a body whose results are copied to the output by `<*>`. */
async function output(body: WorkflowUnit['body'], args: JsonObject = {}, rest: Partial<WorkflowUnit> = {}) {
  const { end } = await run(workflow('flow', body, { wfomap: [magic()], ...rest }), args);
  if (end.kind !== 'completed') throw new Error(`run failed: ${JSON.stringify(end)}`);
  return end.output;
}

describe('step machine: start and end', () => {
  it('checks the arguments, applying defaults, and maps the output through wfomap', async () => {
    const unit = workflow('f', [evalS(set('sum', bin(ref('a.x'), '+', ref('a.y'))))], {
      in: [param('x', 'number'), param('y', 'number', { default: 10 })],
      out: [param('sum', 'number')],
      wfomap: [set('sum', ref('v.sum'))],
    });
    expect((await run(unit, { x: 1 })).end).toEqual({ kind: 'completed', output: { sum: 11 }, steps: 1 });
  });

  it('fails with class inargs on a missing or ill-typed argument, naming it', async () => {
    const unit = workflow('f', [], { in: [param('x', 'number')] });
    expect((await run(unit, {})).end).toMatchObject({ kind: 'failed', error: { class: 'inargs', msg: expect.stringContaining('required input argument x not found') as unknown } });
    expect((await run(unit, { x: 'one' })).end).toMatchObject({ kind: 'failed', error: { class: 'inargs', msg: expect.stringContaining('input argument x has the wrong type') as unknown } });
  });

  it('property: bad arguments fail naming the field, and the run does nothing', async () => {
    const unit = workflow('f', [evalS(set('x', 1)), raiseError(lit('must not run'))], { in: [param('count', 'number'), param('label', 'string')] });
    const program = compile(unit);
    await fc.assert(
      fc.asyncProperty(fc.record({ count: fc.oneof(fc.string(), fc.boolean(), fc.constant(null)), label: fc.string() }, { requiredKeys: [] }), async (args) => {
        const world = new World();
        const { end } = await drive({ machine: testMachine, world, program, args });
        expect(end.kind).toBe('failed');
        if (end.kind !== 'failed') return;
        expect(end.error.class).toBe('inargs');
        expect(end.error.msg).toMatch(/ count /);
        expect(end.steps).toBe(0);
        expect(world.log).toEqual([]);
      }),
    );
  });

  it('builds the environment from wfenv', async () => {
    expect(await output([evalS(set('seen', ref('e.region')))], {}, { wfenv: [set('region', 'eu')] })).toEqual({ seen: 'eu' });
  });

  it('fails at the end with class outargs when the output lacks a required key or has the wrong type', async () => {
    const missing = workflow('f', [], { out: [param('n', 'number')] });
    expect((await run(missing)).end).toMatchObject({ kind: 'failed', error: { class: 'outargs', msg: expect.stringContaining('required output parameter n') as unknown } });
    const wrong = workflow('f', [], { out: [param('n', 'number')], wfomap: [set('n', 'seven')] });
    expect((await run(wrong)).end).toMatchObject({ kind: 'failed', error: { class: 'outargs', msg: expect.stringContaining('output parameter n has the wrong type') as unknown } });
    const optional = workflow('f', [], { out: [param('n', 'number', { optional: true })] });
    expect((await run(optional)).end).toMatchObject({ kind: 'completed', output: {} });
  });

  it('fails fatally past max_depth', async () => {
    const unit = workflow('f', [], { config: [set('max_depth', 2)] });
    expect((await run(unit, {}, 2)).end.kind).toBe('completed');
    expect((await run(unit, {}, 3)).end).toMatchObject({ kind: 'failed', error: { class: 'fatal', msg: 'max_depth (2) exceeded: depth 3' } });
  });
});

describe('step machine: control flow', () => {
  it('if / elsif / else takes the first true branch', async () => {
    const pick = (n: number) =>
      output([ifS(bin(lit(n), '<', lit(0)), [evalS(set('r', 'neg'))], [evalS(set('r', 'pos'))], [[bin(lit(n), '==', lit(0)), [evalS(set('r', 'zero'))]]])]);
    expect(await pick(-1)).toEqual({ r: 'neg' });
    expect(await pick(0)).toEqual({ r: 'zero' });
    expect(await pick(5)).toEqual({ r: 'pos' });
    expect(await output([ifS(lit(false), [evalS(set('r', 1))])])).toEqual({});
  });

  it('case compares as text, falls to else, and does not fall through', async () => {
    const pick = (subject: unknown) =>
      output([caseS(lit(subject as string), [[['a', 'b'], [evalS(set('r', 'ab'))]], [['1'], [evalS(set('r', 'one'))]]], [evalS(set('r', 'other'))])]);
    expect(await pick('b')).toEqual({ r: 'ab' });
    expect(await pick(1)).toEqual({ r: 'one' });
    expect(await pick('z')).toEqual({ r: 'other' });
  });

  it('while and repeat…until loop as written', async () => {
    expect(await output([evalS(set('n', 0)), whileS(bin(ref('v.n'), '<', lit(5)), [evalS(set('n', 1, '+='))])])).toEqual({ n: 5 });
    // repeat runs its body once even when the condition holds at once.
    expect(await output([evalS(set('n', 0)), repeatS([evalS(set('n', 1, '+='))], lit(true))])).toEqual({ n: 1 });
    expect(await output([evalS(set('n', 0)), repeatS([evalS(set('n', 1, '+='))], bin(ref('v.n'), '>=', lit(3)))])).toEqual({ n: 3 });
  });

  it('goto jumps backward and forward to labels', async () => {
    const body = [
      evalS(set('n', 0)),
      label('top'),
      evalS(set('n', 1, '+=')),
      ifS(bin(ref('v.n'), '<', lit(3)), [gotoS('top')]),
      gotoS('done'),
      evalS(set('skipped', true)),
      label('done'),
    ];
    expect(await output(body)).toEqual({ n: 3 });
  });

  it('return ends the run with the output map', async () => {
    expect(await output([evalS(set('a', 1)), returnS(), evalS(set('b', 2))])).toEqual({ a: 1 });
  });

  it('raise_error fails with class normal and the message', async () => {
    const { end } = await run(workflow('f', [raiseError(bin(lit('bad '), '.', lit('thing')))]));
    expect(end).toMatchObject({ kind: 'failed', error: { class: 'normal', msg: 'bad thing' } });
  });

  it('assert passes on truth and fails with the message on falsehood', async () => {
    expect(await output([assertS(lit(1), lit('no')), evalS(set('ok', true))])).toEqual({ ok: true });
    const { end } = await run(workflow('f', [assertS(lit(0), lit('zero is false'))]));
    expect(end).toMatchObject({ kind: 'failed', error: { class: 'normal', msg: 'assert failed: zero is false' } });
  });

  it('try/catch: an error jumps to the handler with e._error, then runs on after the try', async () => {
    const body = [
      tryS([evalS(set('before', 1)), raiseError(lit('oops')), evalS(set('after', 1))], [evalS(set('caught', ref('e._error')))]),
      evalS(set('next', true)),
    ];
    expect(await output(body)).toEqual({ before: 1, caught: { class: 'normal', msg: 'oops' }, next: true });
    // Without an error the handler does not run.
    expect(await output([tryS([evalS(set('a', 1))], [evalS(set('caught', true))])])).toEqual({ a: 1 });
  });

  it('try/catch: nested tries catch at the innermost, and a handler error goes to the outer', async () => {
    const body = [
      tryS(
        [tryS([raiseError(lit('inner'))], [evalS(set('inner', ref('e._error.msg'))), raiseError(lit('from handler'))])],
        [evalS(set('outer', ref('e._error.msg')))],
      ),
    ];
    expect(await output(body)).toEqual({ inner: 'inner', outer: 'from handler' });
  });

  it('an evaluation error (a type error in an expression) is caught like any other', async () => {
    const body = [tryS([evalS(set('x', bin(lit('a'), '-', lit(1))))], [evalS(set('caught', ref('e._error.class')))])];
    expect(await output(body)).toEqual({ caught: 'normal' });
  });

  it('max_steps: an endless loop fails fatally, and try does not catch it', async () => {
    const unit = workflow('f', [evalS(set('n', 0)), tryS([label('l'), evalS(set('n', 1, '+=')), gotoS('l')], [evalS(set('caught', true))])], {
      config: [set('max_steps', 20)],
      wfomap: [magic()],
    });
    const { end } = await run(unit);
    expect(end).toEqual({ kind: 'failed', error: { class: 'fatal', msg: 'max_steps (20) exceeded' }, steps: 20 });
  });

  it('max_steps defaults to 100 and counts every instruction executed', async () => {
    const loop = (n: number) => workflow('f', [evalS(set('n', 0)), whileS(bin(ref('v.n'), '<', lit(n)), [evalS(set('n', 1, '+='))])]);
    // 1 + n * (test + body + back jump) + final test = 3n + 2
    expect((await run(loop(32))).end).toMatchObject({ kind: 'completed', steps: 98 });
    expect((await run(loop(33))).end).toMatchObject({ kind: 'failed', error: { class: 'fatal' }, steps: 100 });
  });

  it('not / unary operators reach the evaluator through branch conditions', async () => {
    expect(await output([ifS(not(lit(false)), [evalS(set('r', 1))])])).toEqual({ r: 1 });
  });
});
