// The entry point from JCL source text to units. The grammar (jcl.peggy, embedded as a string in
// jcl-grammar.ts) is compiled by peggy on the first parse: 0.6 to 1 s, once per process, in
// exchange for shipping no generated code; processes that import the package but never parse
// (workers, the engine replaying stored programs) never pay it.
import peggy from 'peggy';
import type { Unit } from '../ast.js';
import { JCL_GRAMMAR } from './jcl-grammar.js';
import { JclSyntaxError, toJclSyntaxError } from './syntax-error.js';

/** A rule the grammar checks beyond the syntax, recorded during the parse (see jcl.peggy). */
interface Problem {
  readonly message: string;
  readonly location: { readonly start: { readonly offset: number; readonly line: number; readonly column: number } };
}

let parser: peggy.Parser | undefined;

function jclParser(): peggy.Parser {
  // No `cache`: the grammar keeps an indentation stack that a position-keyed cache would ignore.
  parser ??= peggy.generate(JCL_GRAMMAR, { grammarSource: 'jcl.peggy', output: 'parser' });
  return parser;
}

/**
 * Parses JCL source into its units (`workflow`, `action`, `procedure`, `interface`; a file may
 * hold several). Throws JclSyntaxError, naming `fileName:line:column`, when the text does not
 * parse or breaks a rule the grammar checks (a duplicate section, an unknown scope, …).
 *
 * @example
 * const [flow] = parseJcl('workflow hello:\nin:\n\tname string\ndo:\n\teval:\n\t\tgreeting = "hi " . a.name\n', 'hello.wf');
 */
export function parseJcl(source: string, fileName = '<jcl>'): Unit[] {
  // Every line item ends with its end of line; appending one (after the last character) moves no position.
  const text = source === '' || source.endsWith('\n') ? source : `${source}\n`;
  let result: { units: Unit[]; problems: Problem[] };
  try {
    result = jclParser().parse(text, { grammarSource: fileName }) as typeof result;
  } catch (err) {
    if (err instanceof RangeError) {
      // A recursive-descent parser recurses once per level of nesting: a few hundred nested
      // parentheses or unary operators exhaust the stack. No real workflow nests like that.
      throw new JclSyntaxError(`${fileName}:1:1: the source nests too deeply to parse`, fileName, 1, 1, [], { cause: err });
    }
    throw toJclSyntaxError(err, text, fileName);
  }
  // Only now are the recorded problems real: the grammar has one parse per text, so a match that
  // was abandoned means the text did not parse, and then the syntax error above is the one to report.
  const first = [...result.problems].sort((p, q) => p.location.start.offset - q.location.start.offset)[0];
  if (first !== undefined) {
    const { line, column } = first.location.start;
    throw new JclSyntaxError(`${fileName}:${line}:${column}: ${first.message}`, fileName, line, column, []);
  }
  return result.units;
}
