import { describe, expect, it } from 'vitest';
import { lines, noPos, unit } from '../../test/jcl-test-support.js';
import { parseJcl } from './parse-jcl.js';

const lit = (value: unknown) => ({ kind: 'literal', value });
const set = (key: string, value: unknown) => ({ kind: 'assign', scope: null, path: [{ key }], op: '=', value });

describe('JCL units and sections', () => {
  it('a workflow with every section', () => {
    const u = unit(lines(
      '# leading comment',
      'workflow "order flow":',
      'in:',
      '>id number',
      ">note string 'none';",
      '>count integer 0x10',
      '>delta number -2.5',
      ">'odd name' json null",
      'out:',
      '>total number',
      '>extra object optional;',
      'wfenv:',
      '>region = "eu"',
      'role:',
      '>shop',
      'config:',
      '>max_steps = 200',
      'locks:',
      '>order abc inherit',
      '>slot _ manual inherit',
      '>"big lock" x',
      'wfomap:',
      '><total>',
      'do:',
      '>return',
    ));
    expect(noPos(u)).toEqual({
      kind: 'workflow', name: 'order flow', implements: null,
      in: [
        { name: 'id', type: 'number', optional: false },
        { name: 'note', type: 'string', optional: false, default: 'none' },
        { name: 'count', type: 'integer', optional: false, default: 16 },
        { name: 'delta', type: 'number', optional: false, default: -2.5 },
        { name: 'odd name', type: 'json', optional: false, default: null },
      ],
      out: [{ name: 'total', type: 'number', optional: false }, { name: 'extra', type: 'object', optional: true }],
      wfenv: [set('region', lit('eu'))],
      role: ['shop'],
      config: [set('max_steps', lit(200))],
      locks: [
        { type: 'order', value: 'abc', inherit: true, manual: false },
        { type: 'slot', value: '_', inherit: true, manual: true },
        { type: 'big lock', value: 'x', inherit: false, manual: false },
      ],
      wfomap: [{ kind: 'magic', names: ['total'] }],
      body: [{ kind: 'return' }],
    });
    expect(u.pos).toEqual({ line: 2, column: 1 });
    expect(u.in.map((i) => i.pos.line)).toEqual([4, 5, 6, 7, 8]);
    expect(u.in[4]?.pos).toEqual({ line: 8, column: 2 });
  });

  it('sections in any order, empty ones allowed, and do: after wfomap', () => {
    const u = unit(lines('workflow w:', 'do:', '>return', 'in:', 'wfomap:', '>x = v.x'));
    expect(noPos(u)).toMatchObject({ in: [], out: [], body: [{ kind: 'return' }], wfomap: [set('x', { kind: 'variable', scope: 'v', path: [{ key: 'x' }] })] });
  });

  it('an action implementing an interface, with env:', () => {
    expect(noPos(unit(lines('action a.add:', 'interface add:', 'env:', '>token string', 'config:', '>timeout = "1 minute"')))).toEqual({
      kind: 'action', name: 'a.add', implements: 'add', in: [], out: [], role: [],
      config: [set('timeout', lit('1 minute'))], env: [{ name: 'token', type: 'string', optional: false }],
    });
  });

  it('procedure and interface units, several to a file', () => {
    const units = parseJcl(lines(
      'interface add:', 'in:', '>counter number', 'out:', '>counter number',
      'interface sub:', 'in:', '>x number',
      'procedure p:', 'in:', '>x number 3',
      'workflow w:', 'interface sub:', 'do:', '>return',
    ));
    expect(units.map((u) => [u.kind, u.name, u.implements])).toEqual([
      ['interface', 'add', null], ['interface', 'sub', null], ['procedure', 'p', null], ['workflow', 'w', 'sub'],
    ]);
  });

  it('a second interface line after an action starts an interface unit', () => {
    const units = parseJcl(lines('action a:', 'interface i:', 'in:', '>x number', 'interface j:', 'out:', '>y number'));
    expect(units.map((u) => [u.kind, u.name, u.implements])).toEqual([['action', 'a', 'i'], ['interface', 'j', null]]);
  });

  it('CRLF line ends, no final newline, unicode names', () => {
    const u = unit('workflow größe:\r\nlocks:\r\n\tschloss schlüssel\r\ndo:\r\n\treturn');
    expect(noPos(u)).toMatchObject({ name: 'größe', locks: [{ type: 'schloss', value: 'schlüssel' }], body: [{ kind: 'return' }] });
  });

  it.each([
    [lines('workflow w:', 'do:', '>return', 'do:', '>return'), 'u.wf:4:1: duplicate section do: in workflow w'],
    [lines('action a:', 'in:', '>x number', 'in:', '>y number'), 'u.wf:4:1: duplicate section in: in action a'],
    [lines('workflow w:', 'in:', '>x number optional', 'do:', '>return'), 'u.wf:3:2: only out: parameters can be "optional"'],
    [lines('workflow w:', 'out:', '>x number 3', 'do:', '>return'), 'u.wf:3:2: an out: parameter takes no default'],
    [lines('workflow w:', 'in:', '>x number'), 'u.wf:1:1: workflow w has no do: section'],
    [lines('action a:', 'do:', '>return'), 'u.wf:2:1: expected a section (in:, out:, do:, …), end of input or a unit'],
    [lines('workflow w:', ' in:', '>x number'), 'u.wf:2:2: expected a section or unit starting in column 1, found "in"'],
  ])('rejects %j', (source, message) => {
    expect(() => parseJcl(source, 'u.wf')).toThrow(message);
  });
});
