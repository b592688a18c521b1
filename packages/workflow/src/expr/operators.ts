// The strict (both sides evaluated) binary and unary operators of JCL with Perl's semantics.
// The short-circuit ones (`&& || and or // xor`) need lazy operands and live in the evaluator.
import type { BinaryOperator, Json, Pos, UnaryOperator } from '../ast.js';
import { WorkflowError } from '../ports.js';
import { compareText, finite, isTrue, toNumber, toText } from './values.js';

/**
 * The longest string `.` and `x` may build. JobCenter runs inside PostgreSQL, whose text values
 * stop at 1 GB; a workflow's whole state is one jsonb row, so 16 MiB per string is already far
 * beyond any sane variable and keeps `"a" x 1e12` an error instead of an engine crash.
 */
export const MAX_STRING_LENGTH = 16 * 1024 * 1024;

/** The operators whose right side is evaluated only when the left side does not decide. */
export const SHORT_CIRCUIT: ReadonlySet<BinaryOperator> = new Set(['&&', '||', 'and', 'or', '//']);

/** Applies a strict binary operator to two evaluated operands. */
export function applyBinary(op: BinaryOperator, left: Json, right: Json, pos?: Pos): Json {
  const num = (value: Json, side: string): number => toNumber(value, `the ${side} operand of ${op}`, pos);
  const str = (value: Json, side: string): string => toText(value, `the ${side} operand of ${op}`, pos);
  switch (op) {
    case '+': return finite(num(left, 'left') + num(right, 'right'), op, pos);
    case '-': return finite(num(left, 'left') - num(right, 'right'), op, pos);
    case '*': return finite(num(left, 'left') * num(right, 'right'), op, pos);
    case '**': return finite(num(left, 'left') ** num(right, 'right'), op, pos);
    case '/': {
      const divisor = num(right, 'right');
      const dividend = num(left, 'left');
      if (divisor === 0) throw new WorkflowError('normal', 'illegal division by zero', pos);
      return finite(dividend / divisor, op, pos);
    }
    case '%': return modulus(num(left, 'left'), num(right, 'right'), pos);
    case '.': return joinText(str(left, 'left'), str(right, 'right'), pos);
    case 'x': return repeat(str(left, 'left'), num(right, 'right'), pos);
    case '<': return num(left, 'left') < num(right, 'right');
    case '<=': return num(left, 'left') <= num(right, 'right');
    case '>': return num(left, 'left') > num(right, 'right');
    case '>=': return num(left, 'left') >= num(right, 'right');
    case '==': return num(left, 'left') === num(right, 'right');
    case '!=': return num(left, 'left') !== num(right, 'right');
    case 'lt': return compareText(str(left, 'left'), str(right, 'right')) < 0;
    case 'le': return compareText(str(left, 'left'), str(right, 'right')) <= 0;
    case 'gt': return compareText(str(left, 'left'), str(right, 'right')) > 0;
    case 'ge': return compareText(str(left, 'left'), str(right, 'right')) >= 0;
    case 'eq': return str(left, 'left') === str(right, 'right');
    case 'ne': return str(left, 'left') !== str(right, 'right');
    // Perl's xor is the logical one: its result is a boolean, never an operand.
    case 'xor': return isTrue(left) !== isTrue(right);
    // Reached only when a caller skips the short-circuit path; the result is the same.
    case '&&': case 'and': return isTrue(left) ? right : left;
    case '||': case 'or': return isTrue(left) ? left : right;
    case '//': return left !== null ? left : right;
  }
}

/** Applies a unary operator. Perl's unary `+` is no conversion at all, so it returns the operand. */
export function applyUnary(op: UnaryOperator, operand: Json, pos?: Pos): Json {
  switch (op) {
    case '!': case 'not': return !isTrue(operand);
    case '-': return finite(-toNumber(operand, 'the operand of unary -', pos), 'unary -', pos);
    case '+': return operand;
  }
}

/**
 * Perl's `%`: both operands are truncated to integers and the result takes the sign of the right
 * one (`-7 % 3` is 2, `7 % -3` is -2), unlike JavaScript's remainder.
 */
function modulus(left: number, right: number, pos?: Pos): number {
  const a = Math.trunc(left);
  const b = Math.trunc(right);
  if (b === 0) throw new WorkflowError('normal', 'illegal modulus zero (division by zero)', pos);
  const r = a % b;
  return finite(r !== 0 && r < 0 !== b < 0 ? r + b : r, '%', pos);
}

/** `.` with the string length limit. */
export function joinText(left: string, right: string, pos?: Pos): string {
  if (left.length + right.length > MAX_STRING_LENGTH) {
    throw new WorkflowError('normal', `string too long (over ${MAX_STRING_LENGTH} characters)`, pos);
  }
  return left + right;
}

/** Perl's `x`: the count is truncated to an integer; zero or less gives "". */
function repeat(text: string, count: number, pos?: Pos): string {
  const times = Math.trunc(count);
  if (times <= 0 || text === '') return '';
  if (text.length * times > MAX_STRING_LENGTH) {
    throw new WorkflowError('normal', `string too long (over ${MAX_STRING_LENGTH} characters)`, pos);
  }
  return text.repeat(times);
}
