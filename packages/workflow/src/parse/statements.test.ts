import { describe, expect, it } from 'vitest';
import { body, noPos } from '../../test/jcl-test-support.js';

const v = (scope: string, ...keys: string[]) => ({ kind: 'variable', scope, path: keys.map((key) => ({ key })) });
const lit = (value: unknown) => ({ kind: 'literal', value });
const set = (key: string, value: unknown, op = '=', scope: string | null = null) =>
  ({ kind: 'assign', scope, path: [{ key }], op, value });

describe('JCL statements', () => {
  it('call with an input map and an into: output map, positions included', () => {
    const [call] = body('call add:', '>counter = a.input', '>t.x = 3;', 'into:', '><counter>', '>thing .= o.x');
    expect(call).toEqual({
      kind: 'call', name: 'add', pos: { line: 3, column: 2 },
      imap: [
        { ...set('counter', { ...v('a', 'input'), pos: { line: 4, column: 13 } }), pos: { line: 4, column: 3 } },
        { ...set('x', { ...lit(3), pos: { line: 5, column: 9 } }, '=', 't'), pos: { line: 5, column: 3 } },
      ],
      omap: [
        { kind: 'magic', names: ['counter'], pos: { line: 7, column: 3 } },
        { ...set('thing', { ...v('o', 'x'), pos: { line: 8, column: 12 } }, '.='), pos: { line: 8, column: 3 } },
      ],
    });
  });

  it('call without inputs or into:, and quoted names', () => {
    expect(noPos(body('call "my flow":', 'call a.b.c:', '>x = 1'))).toEqual([
      { kind: 'call', name: 'my flow', imap: [], omap: [] },
      { kind: 'call', name: 'a.b.c', imap: [set('x', lit(1))], omap: [] },
    ]);
  });

  it('every assignment operator, magic lists and <*>', () => {
    const ops = ['=', '.=', ',=', '+=', '-=', '*=', '/=', '//=', '||='];
    const [ev] = body('eval:', ...ops.map((op) => `>x ${op} 1`), '><a, "b c">', '><*>');
    expect(noPos(ev)).toEqual({
      kind: 'eval',
      assignments: [
        ...ops.map((op) => set('x', lit(1), op)),
        { kind: 'magic', names: ['a', 'b c'] },
        { kind: 'magic', names: null },
      ],
    });
  });

  it('let is eval; scopes, quoted and indexed path parts on the left', () => {
    const [ev] = body('let:', ">v.'2nd'.x[3] = -1", '>thing.y = 2', '>t = 3');
    expect(noPos(ev)).toEqual({
      kind: 'eval',
      assignments: [
        { kind: 'assign', scope: 'v', path: [{ key: '2nd' }, { key: 'x', index: 3 }], op: '=', value: { kind: 'unary', op: '-', operand: lit(1) } },
        { kind: 'assign', scope: null, path: [{ key: 'thing' }, { key: 'y' }], op: '=', value: lit(2) },
        set('t', lit(3)),
      ],
    });
  });

  it('inline blocks as the whole assignment list, on the colon line or the next', () => {
    expect(noPos(body('eval: [[ v.x = 1 ]]', 'eval:', '[js[', '>a[b[0]] = 1', ']js]'))).toEqual([
      { kind: 'eval', assignments: [{ kind: 'block', code: ' v.x = 1 ' }] },
      { kind: 'eval', assignments: [{ kind: 'block', code: '\n\t\ta[b[0]] = 1\n\t' }] },
    ]);
  });

  it('assert with its message on the next line', () => {
    expect(noPos(body('assert a.x > 1:', '>"too small"'))).toEqual([
      { kind: 'assert', condition: { kind: 'binary', op: '>', left: v('a', 'x'), right: lit(1) }, message: lit('too small') },
    ]);
  });

  it('case with when labels and else', () => {
    const [c] = body('case a.kind:', 'when foo, "b-r":', '>return', '# a comment between', 'when baz:', '>goto end', 'else:', '>label end');
    expect(noPos(c)).toEqual({
      kind: 'case', subject: v('a', 'kind'),
      whens: [
        { labels: ['foo', 'b-r'], body: [{ kind: 'return' }] },
        { labels: ['baz'], body: [{ kind: 'goto', label: 'end' }] },
      ],
      otherwise: [{ kind: 'label', label: 'end' }],
    });
    if (c?.kind !== 'case') throw new Error('not a case');
    expect(c.whens.map((w) => w.pos)).toEqual([{ line: 4, column: 2 }, { line: 7, column: 2 }]);
  });

  it('detachflow, goto, label, return', () => {
    expect(noPos(body('detachflow cleanup:', '>id = v.id', 'label again', 'goto again;', 'return'))).toEqual([
      { kind: 'detachflow', name: 'cleanup', imap: [set('id', v('v', 'id'))] },
      { kind: 'label', label: 'again' },
      { kind: 'goto', label: 'again' },
      { kind: 'return' },
    ]);
  });

  it('if, elsif, else', () => {
    const [s] = body('if a.x < 10:', '>return', 'elsif a.x > 100 and a.x < 200:', '>return', 'elsif(a.y):', '>return', 'else:', '>goto z');
    expect(noPos(s)).toEqual({
      kind: 'if',
      branches: [
        { condition: { kind: 'binary', op: '<', left: v('a', 'x'), right: lit(10) }, body: [{ kind: 'return' }] },
        {
          condition: {
            kind: 'binary', op: 'and',
            left: { kind: 'binary', op: '>', left: v('a', 'x'), right: lit(100) },
            right: { kind: 'binary', op: '<', left: v('a', 'x'), right: lit(200) },
          },
          body: [{ kind: 'return' }],
        },
        { condition: v('a', 'y'), body: [{ kind: 'return' }] },
      ],
      otherwise: [{ kind: 'goto', label: 'z' }],
    });
    if (s?.kind !== 'if') throw new Error('not an if');
    expect(s.pos).toEqual({ line: 3, column: 2 });
    expect(s.branches.map((b) => b.pos)).toEqual([{ line: 3, column: 2 }, { line: 5, column: 2 }, { line: 7, column: 2 }]);
  });

  it('nested if: an else belongs to the if at its own indentation', () => {
    const [s] = body('if a.x:', '>if a.y:', '>>return', '>else:', '>>goto b', 'else:', '>goto c');
    expect(noPos(s)).toEqual({
      kind: 'if',
      branches: [{
        condition: v('a', 'x'),
        body: [{ kind: 'if', branches: [{ condition: v('a', 'y'), body: [{ kind: 'return' }] }], otherwise: [{ kind: 'goto', label: 'b' }] }],
      }],
      otherwise: [{ kind: 'goto', label: 'c' }],
    });
  });

  it('interface call: destinations, then call EXPR: with maps', () => {
    const [s] = body('interface add:', '>a.add', '>"b.add"', "call a.which . '.add':", '>[[ i = a ]]', 'into:', '><*>');
    expect(noPos(s)).toEqual({
      kind: 'interface-call', interfaceName: 'add', destinations: ['a.add', 'b.add'],
      selector: { kind: 'binary', op: '.', left: v('a', 'which'), right: lit('.add') },
      imap: [{ kind: 'block', code: ' i = a ' }], omap: [{ kind: 'magic', names: null }],
    });
  });

  it('lock, unlock (expression or inline block) and wait_for_lock', () => {
    expect(noPos(body("lock slot 'key'", 'unlock slot [[ "key" ]]', 'wait_for_lock foo:', ">value = 'bar'", '>wait = 5'))).toEqual([
      { kind: 'lock', lockType: 'slot', value: lit('key') },
      { kind: 'unlock', lockType: 'slot', value: { kind: 'block', code: ' "key" ' } },
      { kind: 'wait-for-lock', lockType: 'foo', assignments: [set('value', lit('bar')), set('wait', lit(5))] },
    ]);
  });

  it('map … using … with collect:', () => {
    expect(noPos(body('map calladd using a.input:', '>input = e._v # loop value', 'collect:', '>out ,= o.output'))).toEqual([
      {
        kind: 'map', name: 'calladd', using: v('a', 'input'),
        imap: [set('input', v('e', '_v'))], collect: [set('out', v('o', 'output'), ',=')],
      },
    ]);
  });

  it('raise_error and sleep, and their older block forms', () => {
    expect(noPos(body("raise_error 'boom'", 'raise_error:', '>msg = "b" . 1', 'sleep "10 seconds"', 'sleep:', '>timeout = 5'))).toEqual([
      { kind: 'raise-error', message: lit('boom') },
      { kind: 'raise-error', message: { kind: 'binary', op: '.', left: lit('b'), right: lit(1) } },
      { kind: 'sleep', duration: lit('10 seconds') },
      { kind: 'sleep', duration: lit(5) },
    ]);
  });

  it('events: raise_event, subscribe, unsubscribe, wait_for_event … into', () => {
    const call = (name: string, ...args: unknown[]) => ({ kind: 'call', name, args });
    expect(noPos(body(
      'subscribe:', '>name = "ev"', '>mask = object("foo": "bar")',
      'raise_event:', '>event = object(a.in: 1, "b", 2)',
      'wait_for_event:', '>events = array("ev")', '>timeout = 2', 'into:', '><event>',
      'unsubscribe:', '>name = "ev"',
    ))).toEqual([
      { kind: 'subscribe', assignments: [set('name', lit('ev')), set('mask', call('object', lit('foo'), lit('bar')))] },
      { kind: 'raise-event', assignments: [set('event', call('object', v('a', 'in'), lit(1), lit('b'), lit(2)))] },
      { kind: 'wait-for-event', assignments: [set('events', call('array', lit('ev'))), set('timeout', lit(2))], omap: [{ kind: 'magic', names: ['event'] }] },
      { kind: 'unsubscribe', assignments: [set('name', lit('ev'))] },
    ]);
  });

  it('repeat … until, while, try … catch', () => {
    expect(noPos(body('repeat:', '>return', 'until v.n > 10', 'while !v.x or v.x < 10:', '>return', 'try:', '>return', 'catch:', '>goto x'))).toEqual([
      { kind: 'repeat', body: [{ kind: 'return' }], until: { kind: 'binary', op: '>', left: v('v', 'n'), right: lit(10) } },
      {
        kind: 'while',
        condition: {
          kind: 'binary', op: 'or',
          left: { kind: 'unary', op: '!', operand: v('v', 'x') },
          right: { kind: 'binary', op: '<', left: v('v', 'x'), right: lit(10) },
        },
        body: [{ kind: 'return' }],
      },
      { kind: 'try', body: [{ kind: 'return' }], handler: [{ kind: 'goto', label: 'x' }] },
    ]);
  });

  it('split with callflow and map children', () => {
    const [s] = body('split:', '>callflow a:', '>>x = 1', '>into:', '>>y = o.y', '', '>map b using v.list:', '>>z = e._v', '>callflow c:');
    expect(noPos(s)).toEqual({
      kind: 'split',
      children: [
        { kind: 'callflow', name: 'a', imap: [set('x', lit(1))], omap: [set('y', v('o', 'y'))] },
        { kind: 'map', name: 'b', using: v('v', 'list'), imap: [set('z', v('e', '_v'))], collect: [] },
        { kind: 'callflow', name: 'c', imap: [], omap: [] },
      ],
    });
  });

  it('comments: line, end of line, and #[delim[ … #]delim] over several lines', () => {
    expect(noPos(body('# one', 'return # two', '#[[', 'not code: if x', '#]]', '#[x[ also #]x]', 'goto a;  # three'))).toEqual([
      { kind: 'return' },
      { kind: 'goto', label: 'a' },
    ]);
  });

  it('tabs count as 8 columns: a tab and 8 spaces are the same indentation', () => {
    // `body` adds a tab: the goto line is a tab and 8 spaces, the return line two tabs.
    expect(noPos(body('if a.x:', '>return', '        goto y', 'return'))).toEqual([
      { kind: 'if', branches: [{ condition: v('a', 'x'), body: [{ kind: 'return' }, { kind: 'goto', label: 'y' }] }], otherwise: null },
      { kind: 'return' },
    ]);
  });
});
