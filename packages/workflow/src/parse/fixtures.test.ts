// The sample workflows and actions in test/fixtures (written for Drover, in the forms JobCenter's
// own example files use) must all parse, to the units and statements listed here.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Block, Statement, Unit } from '../ast.js';
import { parseJcl } from './parse-jcl.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);

/** Every statement kind in a block, depth first, nested blocks included. */
function kinds(block: Block): string[] {
  return block.flatMap((s: Statement): string[] => {
    switch (s.kind) {
      case 'if': return [s.kind, ...s.branches.flatMap((b) => kinds(b.body)), ...kinds(s.otherwise ?? [])];
      case 'case': return [s.kind, ...s.whens.flatMap((w) => kinds(w.body)), ...kinds(s.otherwise ?? [])];
      case 'repeat': case 'while': return [s.kind, ...kinds(s.body)];
      case 'try': return [s.kind, ...kinds(s.body), ...kinds(s.handler)];
      case 'split': return [s.kind, ...s.children.map((c) => c.kind)];
      default: return [s.kind];
    }
  });
}

function summary(u: Unit): unknown[] {
  return [u.kind, u.name, u.implements, u.kind === 'workflow' ? kinds(u.body) : u.in.length + u.out.length];
}

const expected: Record<string, unknown[]> = {
  'adders.ac': [
    ['interface', 'adder', null, 3], ['action', 'adders.fast', 'adder', 0], ['action', 'adders.slow', 'adder', 0],
    ['procedure', 'now', null, 1],
  ],
  'dispatch.wf': [['workflow', 'dispatch', null, ['interface-call']]],
  'fanout.wf': [['workflow', 'fan out', null, ['split', 'map', 'callflow', 'map', 'detachflow']]],
  'greeting.wf': [['workflow', 'greeting', null, ['if', 'eval', 'raise-error', 'call']]],
  'legacy.wf': [['workflow', 'older forms', null, ['eval', 'sleep', 'if', 'raise-error', 'eval']]],
  'notify.wf': [['workflow', 'notify', null, [
    'subscribe', 'raise-event', 'eval', 'repeat', 'wait-for-event', 'eval', 'while', 'eval', 'case', 'goto', 'assert',
    'label', 'unsubscribe',
  ]]],
  'reservations.wf': [['workflow', 'reservations', null, ['try', 'wait-for-lock', 'eval', 'return', 'lock', 'sleep', 'call', 'unlock']]],
};

describe('JCL sample files', () => {
  it('lists every fixture here', () => {
    expect(readdirSync(fixtures).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))('%s parses', (file, units) => {
    const source = readFileSync(new URL(file, fixtures), 'utf8');
    expect(parseJcl(source, file).map(summary)).toEqual(units);
  });

  it('keeps an inline block verbatim, closing brackets inside it included', () => {
    const [u] = parseJcl(readFileSync(new URL('legacy.wf', fixtures), 'utf8'), 'legacy.wf');
    expect(u?.kind === 'workflow' && u.body[0]).toEqual({
      kind: 'eval',
      assignments: [{ kind: 'block', code: '\n\t\tv["the thing"] = a["in put"] + "]]";\n\t', pos: { line: 15, column: 2 } }],
      pos: { line: 14, column: 2 },
    });
  });
});
