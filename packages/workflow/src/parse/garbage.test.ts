// Whatever the text, parseJcl either returns units or throws JclSyntaxError at a real position of
// that text: never a TypeError from inside the parser, never a position past the end.
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJcl } from './parse-jcl.js';
import { JclSyntaxError } from './syntax-error.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url);
const samples = readdirSync(fixtures).map((f) => readFileSync(new URL(f, fixtures), 'utf8'));

/** Parses, and checks that a failure is a JclSyntaxError naming a line and column the text has. */
function parsesOrFailsCleanly(source: string): void {
  try {
    expect(Array.isArray(parseJcl(source, 'g.wf'))).toBe(true);
  } catch (err) {
    if (!(err instanceof JclSyntaxError)) throw err;
    const sourceLines = source.split('\n');
    expect(err.line).toBeGreaterThanOrEqual(1);
    // One past the last line is where "end of input" is when the text ends with a newline.
    expect(err.line).toBeLessThanOrEqual(sourceLines.length + 1);
    expect(err.column).toBeGreaterThanOrEqual(1);
    expect(err.column).toBeLessThanOrEqual((sourceLines[err.line - 1] ?? '').length + 2);
    expect(err.message.startsWith(`g.wf:${err.line}:${err.column}: `)).toBe(true);
  }
}

const tokens = [
  'workflow w:', 'action a:', 'interface i:', 'in:', 'out:', 'do:', 'locks:', 'wfomap:', 'into:', 'else:',
  'if', 'elsif', 'while', 'call', 'case', 'when', 'try:', 'catch:', 'repeat:', 'until', 'split:', 'map', 'using',
  'eval:', 'a.x', 'v.y[2]', 'x', '=', '.=', '<*>', '<a,b>', '(', ')', '[[', ']]', '#', '#[[', '#]]', "'s'", '"d\\n"',
  '1', '0x1f', '-', '**', 'not', '=~ /a/', ':', ';', ',', ' ', '\t', '\n', '\r\n', 'é', '\u0000',
];

// Each parse takes a few milliseconds; hundreds of runs need more than vitest's default 5 s.
const PROPERTY_TIMEOUT_MS = 60_000;

describe('parseJcl on bad input', () => {
  it('never fails with anything but a positioned JclSyntaxError on random text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), parsesOrFailsCleanly), { numRuns: 300 });
  }, PROPERTY_TIMEOUT_MS);

  it('… nor on random sequences of JCL tokens', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 80 }), (ts) => parsesOrFailsCleanly(ts.join(''))), { numRuns: 500 });
  }, PROPERTY_TIMEOUT_MS);

  it('… nor on truncated or mutated sample files', () => {
    const sample = fc.constantFrom(...samples);
    fc.assert(fc.property(sample, fc.nat(), (s, n) => parsesOrFailsCleanly(s.slice(0, n % (s.length + 1)))), { numRuns: 200 });
    fc.assert(
      fc.property(sample, fc.nat(), fc.nat({ max: 3 }), fc.constantFrom(...tokens), (s, n, cut, insert) => {
        const at = n % (s.length + 1);
        parsesOrFailsCleanly(s.slice(0, at) + insert + s.slice(at + cut));
      }),
      { numRuns: 300 },
    );
  }, PROPERTY_TIMEOUT_MS);

  it('reports nesting deeper than the stack as a JclSyntaxError', () => {
    const source = `workflow w:\ndo:\n\teval:\n\t\tx = ${'('.repeat(5000)}1${')'.repeat(5000)}\n`;
    expect(() => parseJcl(source, 'w.wf')).toThrow(new JclSyntaxError('w.wf:1:1: the source nests too deeply to parse', 'w.wf', 1, 1, []));
  });
});
