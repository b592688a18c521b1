import { describe, expect, it } from 'vitest';
import { lines } from '../../test/jcl-test-support.js';
import { parseJcl } from './parse-jcl.js';
import { JclSyntaxError } from './syntax-error.js';

/** The JclSyntaxError that parsing `do:` lines (one tab added to each) raises. */
function failure(...doLines: string[]): JclSyntaxError {
  try {
    parseJcl(lines('workflow w:', 'do:', ...doLines.map((l) => `>${l}`)), 'w.wf');
  } catch (err) {
    if (err instanceof JclSyntaxError) return err;
    throw err;
  }
  throw new Error('parsed');
}

describe('JCL syntax errors', () => {
  it('name the file, line, column and what was expected', () => {
    const err = failure('if a.x foo:', '>return');
    expect(err).toBeInstanceOf(JclSyntaxError);
    expect(err.name).toBe('JclSyntaxError');
    expect([err.fileName, err.line, err.column]).toEqual(['w.wf', 3, 9]);
    expect(err.expected).toEqual(["':' after the condition of if"]);
    expect(err.message).toBe(`w.wf:3:9: expected ':' after the condition of if, found "foo"`);
  });

  it.each([
    [['while a.x', '>return'], "w.wf:3:11: expected ':' after the condition of while, found end of line"],
    [['call foo', '>x = 1'], "w.wf:3:10: expected ':' after the name, found end of line"],
    [['frobnicate 3'], 'w.wf:3:2: expected a statement, found "frobnicate"'],
    [['eval:', '>x = '], 'w.wf:4:7: expected an expression, found end of line'],
    [['eval:', '>x = 1 +'], 'w.wf:4:10: expected an expression, found end of line'],
    [['eval:', '>x = (1 + 2'], "w.wf:4:13: expected ')', found end of line"],
    [['eval:', '>x = f(1,'], 'w.wf:4:11: expected an expression, found end of line'],
    [['eval:', ">x = 'open"], 'w.wf:4:7: expected an expression, found "\'"'],
    [['eval:', '>x == 1'], 'w.wf:4:5: expected an assignment operator, found "=="'],
    [['eval:', '>x = 1 2'], 'w.wf:4:9: expected end of line, found "2"'],
    [['eval:', '>x = [[ 1'], 'w.wf:5:1: expected the end of the inline block (]] or ]delimiter]), found end of input'],
    [['eval:', '>x = v.s =~ /(/'], 'w.wf:4:14: invalid regular expression /(/'],
    [['return', 'else:', '>return'], 'w.wf:4:2: "else" without a matching if or case'],
    [['return', 'into:'], 'w.wf:4:2: "into" without a matching call, callflow or wait_for_event'],
    [['return', 'catch:'], 'w.wf:4:2: "catch" without a matching try'],
    [['try:', '>return'], "w.wf:5:1: expected 'catch', found end of input"],
    [['repeat:', '>return'], "w.wf:5:1: expected 'until', found end of input"],
    [['if a.x:', 'return'], 'w.wf:4:2: expected an indented block, found "return"'],
    [['if a.x:', '>>return', '>goto x'], 'w.wf:5:3: expected the indentation of an enclosing block, found "goto"'],
    [['return', '  goto x'], 'w.wf:4:4: expected the indentation of an enclosing block, found "goto"'],
    [['assert a.x:', '>"one"', '>"two"'], 'w.wf:3:2: assert takes exactly one message expression'],
    [['case a.x:', 'else:', '>return'], 'w.wf:3:2: case needs at least one "when LABEL:"'],
    [['sleep:', '>seconds = 5'], 'w.wf:3:2: sleep: takes exactly one assignment, timeout = <expression>'],
    [['split:', '>call x:'], "w.wf:4:3: expected 'callflow' or 'map', found \"call\""],
  ])('%j', (doLines, message) => {
    expect(failure(...doLines).message).toContain(message);
  });

  it('an error inside an else block is reported there, not as an else without if', () => {
    expect(failure('if a.x:', '>return', 'else:', '>goto').message).toBe('w.wf:6:7: expected a name or a string, found end of line');
  });

  it('counts columns in characters while indentation counts a tab as 8', () => {
    // A tab and 7 spaces: 15 columns wide, between the if (8) and its block (16), but column 9 in characters.
    const err = failure('if a.x:', '>return', '       goto x');
    expect([err.line, err.column]).toEqual([5, 9]);
    expect(err.expected).toEqual(['the indentation of an enclosing block']);
  });

  it('rejects an empty source and garbage after the last unit', () => {
    expect(() => parseJcl('', 'e.wf')).toThrow('e.wf:1:1: expected a unit (workflow, action, procedure or interface), found end of input');
    expect(() => parseJcl(lines('action a:', 'in:', '>x number', '!!'), 'e.wf')).toThrow('e.wf:4:1: expected');
  });
});
