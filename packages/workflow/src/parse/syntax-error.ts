// Turns peggy's failures into JclSyntaxError: a position, a short human list of what could come
// next, and a message an author can act on. Peggy reports everything that could have matched at
// the furthest position it reached; raw, that is a list of forty keywords and operators, so the
// list is folded into phrases ("a statement", "an expression") and the always-possible
// continuations (more operators, a comment) are dropped when anything else was expected.
import type { parser as peggyParser } from 'peggy';

/** A JCL source that does not parse: where, and what the parser expected there. */
export class JclSyntaxError extends Error {
  constructor(
    message: string,
    /** The file name given to parseJcl (or `<jcl>`). */
    readonly fileName: string,
    /** 1-based line of the error. */
    readonly line: number,
    /** 1-based column of the error, in characters (a tab is one column). */
    readonly column: number,
    /** What could have come at that position, as phrases; empty for a semantic error. */
    readonly expected: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JclSyntaxError';
  }
}

const STATEMENT_KEYWORDS = new Set([
  'assert', 'call', 'case', 'detachflow', 'eval', 'goto', 'if', 'interface', 'label', 'let', 'lock',
  'map', 'raise_error', 'raise_event', 'repeat', 'return', 'sleep', 'split', 'subscribe', 'try',
  'unlock', 'unsubscribe', 'wait_for_event', 'wait_for_lock', 'while',
]);

const SECTION_KEYWORDS = new Set(['in', 'out', 'env', 'wfenv', 'role', 'config', 'locks', 'wfomap', 'do']);

/** What may follow any complete expression: saying so at every error would bury the real expectation. */
const OPERATORS = new Set([
  '**', '*', '/', '//', '%', 'x', '+', '-', '.', '<', '<=', '>', '>=', 'lt', 'le', 'gt', 'ge',
  '==', '!=', 'eq', 'ne', '&&', '||', 'and', 'or', 'xor', '=~', '~', '[', ';',
]);

/** The starts of an expression, folded into "an expression". */
const TERM_STARTS = new Set([
  'a number', 'a string', 'true or false', 'null', 'a name', 'a variable (a., e., v., t., i. or o.)',
  "'('", "'['", "'!'", "'-'", "'+'", "'not'",
]);

/** Keywords that only continue a statement: alone on a line they have lost their opener. */
const ORPHANS: Record<string, string> = {
  else: 'if or case', elsif: 'if', when: 'case', into: 'call, callflow or wait_for_event',
  collect: 'map', catch: 'try', until: 'repeat',
};

const UNIT_KEYWORDS = new Set(['workflow', 'action', 'procedure', 'interface']);

/** Expected everywhere a line may end or a new line begin; named only when nothing else was. */
const NOISE = new Set(['any character', 'a comment', 'a blank line', 'the indentation of an enclosing block', 'a section at the start of a line']);

/** Peggy merges one-character alternatives into a class: give each character back its own entry. */
function describe(e: peggyParser.Expectation): string[] {
  switch (e.type) {
    case 'literal':
      return [`'${e.text}'`];
    case 'other':
      return [e.description];
    case 'end':
      return ['end of input'];
    case 'any':
      return ['any character'];
    case 'class': {
      const chars: string[] = [];
      for (const part of e.parts) {
        if (typeof part === 'string') chars.push(part.length === 1 ? part : '\u0000');
        else {
          const [from = '', to = ''] = part;
          for (let c = from.charCodeAt(0); c <= to.charCodeAt(0) && chars.length < 12; c++) chars.push(String.fromCharCode(c));
        }
      }
      return e.inverted || chars.length >= 12 || chars.includes('\u0000') ? ['a character'] : chars.map((c) => `'${c}'`);
    }
  }
}

/** Folds peggy's raw expectations into a short list of phrases. */
export function foldExpected(raw: readonly peggyParser.Expectation[]): string[] {
  let list = [...new Set(raw.flatMap(describe))];
  const bare = (d: string) => d.replace(/^'(.*)'$/, '$1');
  const statements = list.filter((d) => STATEMENT_KEYWORDS.has(bare(d)));
  if (statements.length >= 3) {
    list = list.filter((d) => !STATEMENT_KEYWORDS.has(bare(d)));
    list.unshift('a statement');
  }
  const sections = list.filter((d) => SECTION_KEYWORDS.has(bare(d)));
  if (sections.length >= 3) {
    list = list.filter((d) => !SECTION_KEYWORDS.has(bare(d)));
    list.unshift('a section (in:, out:, do:, …)');
  }
  if (list.filter((d) => UNIT_KEYWORDS.has(bare(d))).length >= 3) {
    list = list.filter((d) => !UNIT_KEYWORDS.has(bare(d)));
    list.push('a unit (workflow, action, procedure or interface)');
  }
  if (list.includes('a number') && list.includes('a string')) {
    list = list.filter((d) => !TERM_STARTS.has(d));
    list.unshift('an expression');
  }
  const structural = list.filter((d) => !OPERATORS.has(bare(d)) && !NOISE.has(d));
  if (structural.length > 0) return structural;
  // A line that fits nowhere: when its indentation is the culprit, say only that.
  if (list.includes('the indentation of an enclosing block')) return ['the indentation of an enclosing block'];
  // An indented line outside any block: only a blank line could have been there.
  if (list.includes('a blank line')) return ['a section or unit starting in column 1'];
  return list.filter((d) => !NOISE.has(d) || list.every((e) => NOISE.has(e)));
}

function joinOr(list: readonly string[]): string {
  if (list.length <= 1) return list[0] ?? 'something else';
  return `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
}

/** What the source holds at an offset, as an error message names it. */
export function foundAt(source: string, offset: number): string {
  if (offset >= source.length) return 'end of input';
  const rest = source.slice(offset);
  if (rest.startsWith('\n') || rest.startsWith('\r\n')) return 'end of line';
  if (rest.startsWith(' ') || rest.startsWith('\t')) return 'a blank';
  const line = rest.split(/\r?\n/, 1)[0] ?? '';
  const word = /^[\p{L}\p{N}_]+/u.exec(line);
  // A word, or else the run of punctuation up to the next word or blank.
  const token = word ? word[0] : /^[^\p{L}\p{N}_ \t]+/u.exec(line)?.[0] ?? '';
  return JSON.stringify(token.length > 24 ? `${token.slice(0, 24)}…` : token);
}

/** The JclSyntaxError for a failure of the generated parser (or rethrows anything else). */
export function toJclSyntaxError(err: unknown, source: string, fileName: string): JclSyntaxError {
  if (!(err instanceof Error) || !('location' in err) || !('expected' in err)) throw err;
  const failure = err as peggyParser.SyntaxError;
  const { line, column, offset } = failure.location.start;
  const where = `${fileName}:${line}:${column}`;
  if (failure.expected === null) {
    // A semantic check in the grammar (duplicate section, unknown scope, …): its message is final.
    return new JclSyntaxError(`${where}: ${failure.message}`, fileName, line, column, [], { cause: err });
  }
  const expected = foldExpected(failure.expected);
  const found = foundAt(source, offset);
  const orphanOf = ORPHANS[JSON.parse(found.startsWith('"') ? found : '""') as string];
  const message = orphanOf !== undefined && expected.includes('a statement')
    ? `${where}: ${found} without a matching ${orphanOf} (or at the wrong indentation)`
    : `${where}: expected ${joinOr(expected)}, found ${found}`;
  return new JclSyntaxError(message, fileName, line, column, expected, { cause: err });
}
