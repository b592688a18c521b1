// Evaluation of JCL expressions (JobCenter's `rhs`) over the scopes, with Perl's semantics: the
// value conversions in values.ts, the strict operators in operators.ts, the built-ins in
// functions.ts. Short-circuit operators, `list`, regex matches and blocks need more than their
// operands' values and are handled here.
import type { Expr, Json, Pos } from '../ast.js';
import { type JsonObject, type Scopes, WorkflowError } from '../ports.js';
import { BUILTINS, buildObject, listElements } from './functions.js';
import { SHORT_CIRCUIT, applyBinary, applyUnary } from './operators.js';
import { readPath } from './paths.js';
import type { Sandbox, SandboxResult } from './sandbox.js';
import { copyJson, isTrue, toText } from './values.js';

/** Evaluates expressions; shared by the evaluator and the assignments. */
export class ExpressionEvaluator {
  constructor(private readonly sandbox: Sandbox) {}

  /** The value of an expression. Only WorkflowErrors leave it. */
  async evaluate(expr: Expr, scopes: Scopes): Promise<Json> {
    try {
      return await this.value(expr, scopes);
    } catch (error) {
      if (error instanceof WorkflowError) throw error;
      // A defect or a host limit (a syntax tree deep enough to overflow the stack): still a
      // workflow error, so that one bad expression fails its workflow, not the engine.
      throw new WorkflowError('normal', `evaluation failed: ${(error as Error).message}`, expr.pos);
    }
  }

  /** The elements an argument contributes to array(), object() or `,=`: `list(x)` spreads. */
  async spread(expr: Expr, scopes: Scopes): Promise<Json[]> {
    if (expr.kind === 'call' && expr.name === 'list') {
      const [arg] = this.single(expr);
      return listElements(await this.value(arg, scopes), expr.pos);
    }
    return [await this.value(expr, scopes)];
  }

  private async value(expr: Expr, scopes: Scopes): Promise<Json> {
    switch (expr.kind) {
      case 'literal':
        return copyJson(expr.value);
      case 'variable':
        return copyJson(readPath(scopes[expr.scope], expr.scope, expr.path, expr.pos));
      case 'unary':
        return applyUnary(expr.op, await this.value(expr.operand, scopes), expr.pos);
      case 'binary': {
        const left = await this.value(expr.left, scopes);
        if (SHORT_CIRCUIT.has(expr.op)) {
          const decided = expr.op === '//' ? left !== null : expr.op === '&&' || expr.op === 'and' ? !isTrue(left) : isTrue(left);
          return decided ? left : this.value(expr.right, scopes);
        }
        return applyBinary(expr.op, left, await this.value(expr.right, scopes), expr.pos);
      }
      case 'match':
        return this.match(toText(await this.value(expr.subject, scopes), 'the left side of =~', expr.pos), expr.pattern, expr.flags, expr.pos);
      case 'call':
        return this.call(expr, scopes);
      case 'block': {
        // An expression block gets copies of the scopes; what it changes in them is dropped (use
        // an eval: block to change variables). JobCenter keeps a condition block's %v changes.
        const result = await runBlock(this.sandbox, expr.code, { ...scopes }, expr.pos, 'block');
        return result.value;
      }
    }
  }

  private async call(expr: Extract<Expr, { kind: 'call' }>, scopes: Scopes): Promise<Json> {
    if (expr.name === 'list') {
      throw new WorkflowError('normal', 'list() spreads only inside array(), object() or on the right of ,=', expr.pos);
    }
    const builtin = BUILTINS.get(expr.name);
    if (!builtin) throw new WorkflowError('normal', `unknown function ${expr.name}`, expr.pos);
    if (expr.name === 'array' || expr.name === 'object') {
      const args: Json[] = [];
      for (const arg of expr.args) args.push(...(await this.spread(arg, scopes)));
      return expr.name === 'array' ? args : buildObject(args, expr.name, expr.pos);
    }
    const args: Json[] = [];
    for (const arg of expr.args) args.push(await this.value(arg, scopes));
    return builtin(args, expr.name, expr.pos);
  }

  private single(expr: Extract<Expr, { kind: 'call' }>): [Expr] {
    const [arg] = expr.args;
    if (expr.args.length !== 1 || !arg) {
      throw new WorkflowError('normal', `${expr.name}() takes one argument, got ${expr.args.length}`, expr.pos);
    }
    return [arg];
  }

  /**
   * `=~` with a JavaScript RegExp (ECMAScript syntax and flags, not Perl's). It runs in the
   * sandbox, under its time limit: a catastrophically backtracking pattern must not hang the
   * engine, and Node's own RegExp cannot be interrupted.
   */
  private async match(subject: string, pattern: string, flags: string, pos: Pos): Promise<boolean> {
    const code = 'new RegExp(pattern, flags).test(subject)';
    const result = await runBlock(this.sandbox, code, { pattern, flags, subject }, pos, `=~ /${pattern}/${flags}`);
    return result.value === true;
  }
}

/** A sandbox run whose errors carry the position and what ran (a block, a match). */
export async function runBlock(sandbox: Sandbox, code: string, globals: JsonObject, pos: Pos, what: string): Promise<SandboxResult> {
  try {
    return await sandbox.run(code, globals);
  } catch (error) {
    if (error instanceof WorkflowError) throw new WorkflowError(error.errorClass, `${what}: ${error.message}`, pos);
    throw error;
  }
}
