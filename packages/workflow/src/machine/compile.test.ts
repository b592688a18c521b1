import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WorkflowUnit } from '../ast.js';
import { compileAction } from './compile.js';
import { JclCompileError } from './compile-error.js';
import type { Program } from './program.js';
import {
  call, caseS, detachflow, evalS, gotoS, ifS, interfaceCall, label, lit, lockS, lockSpec, magic, mapS, param, ref, repeatS, set, split,
  callflow, tryS, unlockS, waitForLock, whileS, workflow,
} from '../test-support/ast-builders.js';
import { catalogOf, compile, entry } from './test-support/fixtures.js';
import { testTypes } from './test-support/test-evaluator.js';

function compileError(unit: WorkflowUnit): JclCompileError {
  try {
    compile(unit);
  } catch (err) {
    if (err instanceof JclCompileError) return err;
    throw err;
  }
  throw new Error('compiled without error');
}

const program = (unit: WorkflowUnit): Program => compile(unit).code as unknown as Program;

describe('compileWorkflow: load-time checks', () => {
  it('refuses a goto to an unknown label, naming unit, line and column', () => {
    const err = compileError(workflow('flow', [gotoS('nowhere', 7)]));
    expect(err.message).toBe('flow line 7 column 1: goto to unknown label nowhere');
  });

  it('refuses a duplicate label', () => {
    expect(compileError(workflow('flow', [label('x'), label('x', 9)])).message).toMatch(/line 9 .*duplicate label x/);
  });

  it('refuses locks not declared, and lock/unlock of a non-manual lock type', () => {
    expect(compileError(workflow('f', [lockS('db', lit('x'), 4)])).message).toMatch(/line 4 .*lock type db is not declared/);
    const auto = { locks: [lockSpec('db', 'main')] };
    expect(compileError(workflow('f', [lockS('db', lit('x'), 5)], auto)).message).toMatch(/line 5 .*not declared manual/);
    expect(compileError(workflow('f', [unlockS('db', lit('x'))], auto)).message).toMatch(/unlock of lock type db/);
    expect(compileError(workflow('f', [waitForLock('other', set('value', 'x'))], auto)).message).toMatch(/other is not declared/);
    expect(() => compile(workflow('f', [waitForLock('db', set('value', 'x'))], auto))).not.toThrow();
  });

  it('refuses a callee the catalog does not know, in every call form', () => {
    const msg = 'unknown action nope: load its action unit first';
    expect(compileError(workflow('f', [call('nope')])).message).toContain(msg);
    expect(compileError(workflow('f', [detachflow('nope')])).message).toContain(msg);
    expect(compileError(workflow('f', [split(callflow('nope'))])).message).toContain(msg);
    expect(compileError(workflow('f', [split(mapS('nope', lit([]), [], []))])).message).toContain(msg);
    expect(compileError(workflow('f', [interfaceCall('shape', ['nope'], lit('nope'), [set('size', 1)])])).message).toContain(msg);
    expect(compileError(workflow('f', [ifS(lit(true), [whileS(lit(false), [call('nope')])])])).message).toContain(msg);
  });

  it('checks input maps: undeclared input, required input missing (unless magic), literal of the wrong type', () => {
    expect(compileError(workflow('f', [call('add', [set('x', 1), set('z', 2)])])).message).toContain('add has no input z');
    expect(compileError(workflow('f', [call('add', [set('y', 1)])])).message).toContain('leaves required input x unassigned');
    expect(() => compile(workflow('f', [call('add', [magic(['x'])])]))).not.toThrow();
    expect(compileError(workflow('f', [call('add', [set('x', 'one')])])).message).toContain('input x of add: expected number');
    // A temporary is not an input.
    expect(() => compile(workflow('f', [call('add', [set('x', 1), set('t.scratch', 2)])]))).not.toThrow();
  });

  it('checks declared types and defaults', () => {
    expect(compileError(workflow('f', [], { in: [param('n', 'nonsense')] })).message).toContain('unknown type nonsense for input n');
    expect(compileError(workflow('f', [], { out: [param('n', 'nonsense')] })).message).toContain('unknown type nonsense for output n');
    expect(compileError(workflow('f', [], { in: [param('n', 'number', { default: 'x' })] })).message).toContain('default of input n');
  });

  it('checks interface calls: the interface, and each destination implements it', () => {
    expect(compileError(workflow('f', [interfaceCall('add', ['square'], lit('square'), [set('size', 1)])])).message).toContain('add is not an interface');
    expect(compileError(workflow('f', [interfaceCall('shape', ['square', 'other-shape'], lit('x'), [set('size', 1)])])).message)
      .toContain('other-shape does not implement interface shape');
    expect(() => compile(workflow('f', [interfaceCall('shape', ['square', 'circle'], ref('v.kind'), [set('size', 1)])]))).not.toThrow();
  });

  it('accepts max_steps and max_depth in config and refuses anything else', () => {
    expect(program(workflow('f', [], { config: [set('max_steps', 7), set('max_depth', 2)] }))).toMatchObject({ maxSteps: 7, maxDepth: 2 });
    expect(program(workflow('f', []))).toMatchObject({ maxSteps: 100, maxDepth: 10 });
    expect(compileError(workflow('f', [], { config: [set('max_stepz', 7)] })).message).toContain('unknown config key max_stepz');
    expect(compileError(workflow('f', [], { config: [set('max_steps', 'lots')] })).message).toContain('positive whole number');
  });

  it('property: any config key but the two is refused by name, and the error names the unit', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z_]{1,12}$/).filter((k) => k !== 'max_steps' && k !== 'max_depth'), (key) => {
        const err = compileError(workflow('cfg', [], { config: [set(key, 1)] }));
        expect(err.message).toContain(`unknown config key ${key}`);
        expect(err.message.startsWith('cfg line ')).toBe(true);
      }),
    );
  });
});

describe('compileWorkflow: the program', () => {
  it('stores the callee signatures the runtime checks need', () => {
    const p = program(workflow('f', [call('add', [set('x', 1)]), interfaceCall('shape', ['square'], lit('square'), [set('size', 1)])]));
    expect(p.callees.add).toEqual({ kind: 'action', in: [{ name: 'x', type: 'number', optional: false }, { name: 'y', type: 'number', optional: true }], out: [{ name: 'sum', type: 'number', optional: false }] });
    expect(Object.keys(p.callees).sort()).toEqual(['add', 'square']);
  });

  it('places non-manual locks first, in declared order, and ends with the end instruction', () => {
    const p = program(workflow('f', [evalS(set('a', 1))], { locks: [lockSpec('x', '1'), lockSpec('m', '_', { manual: true }), lockSpec('y', '2', { inherit: true })] }));
    expect(p.instrs.map((i) => i.op)).toEqual(['lock', 'lock', 'eval', 'end']);
    expect(p.instrs.slice(0, 2).map((i) => (i.op === 'lock' ? i.lockType : ''))).toEqual(['x', 'y']);
    expect(p.inheritLocks).toBe(true);
  });

  it('gives try-body instructions the handler as catch target, nested tries the innermost', () => {
    const p = program(workflow('f', [tryS([evalS(set('a', 1)), tryS([evalS(set('b', 1))], [evalS(set('c', 1))])], [evalS(set('d', 1))]), evalS(set('e', 1))]));
    const ops = p.instrs.map((i) => `${i.op}:${String(i.catch)}`);
    // 0 a (outer), 1 b (inner), 2 skip inner handler, 3 c (inner handler: outer target), 4 skip outer handler, 5 d, 6 e, 7 end
    expect(ops).toEqual(['eval:5', 'eval:3', 'jump:5', 'eval:5', 'jump:null', 'eval:null', 'eval:null', 'end:null']);
  });

  it('lays out loops and branches with explicit targets (a JSON program)', () => {
    const p = program(workflow('f', [whileS(lit(false), [evalS(set('a', 1))]), repeatS([evalS(set('b', 1))], lit(true)), caseS(lit('x'), [[['x'], []]])]));
    expect(p.instrs[0]).toMatchObject({ op: 'branch', then: 1, otherwise: 3 });
    expect(p.instrs[2]).toMatchObject({ op: 'jump', target: 0 });
    expect(p.instrs[4]).toMatchObject({ op: 'branch', then: 5, otherwise: 3 });
    expect(p.instrs[5]).toMatchObject({ op: 'switch', cases: [{ labels: ['x'], target: 6 }], otherwise: 7 });
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});

describe('compileAction', () => {
  it('gives the signature, checking types when a checker is given', () => {
    const unit = { kind: 'action' as const, name: 'add', implements: null, in: [param('x', 'number')], out: [param('sum', 'number')], env: [], role: [], config: [], pos: { line: 1, column: 1 } };
    expect(compileAction(unit, { types: testTypes })).toMatchObject({ name: 'add', kind: 'action', in: [{ name: 'x', type: 'number', optional: false }] });
    expect(() => compileAction({ ...unit, in: [param('x', 'what')] }, { types: testTypes })).toThrow(/unknown type what for input x/);
    expect(compileAction({ ...unit, config: [set('retry', 3)] }).config).toEqual({ retry: 3 });
    expect(() => compileAction({ ...unit, config: [set('retry', ref('v.x'))] })).toThrow(/add line \d+ column 1: config takes only/);
  });

  it('a workflow implementing an interface takes its in/out from it', () => {
    const cat = catalogOf(entry('shape', 'interface', [['size', 'number']], [['area', 'number']]));
    const p = compile(workflow('sq', [], { implements: 'shape' }), cat).code as unknown as Program;
    expect(p.in.map((x) => x.name)).toEqual(['size']);
    expect(p.out.map((x) => x.name)).toEqual(['area']);
  });
});
