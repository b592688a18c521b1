// The Evaluator port (ports.ts) of the expression language: expressions, assignment lists and
// JobCenter's truth, with inline blocks and regex matches run in the sandbox.
import type { Evaluator, TypeChecker } from '../ports.js';
import { runAssignments } from './assign.js';
import { ExpressionEvaluator } from './evaluate.js';
import type { Sandbox } from './sandbox.js';
import { isTrue } from './values.js';

/** What the evaluator needs. */
export interface EvaluatorOptions {
  /** Runs inline blocks (`[[ … ]]`) and `=~` matches. */
  readonly sandbox: Sandbox;
  /**
   * Declared types. No expression checks a type today (JCL has no cast or `isa`); accepted so the
   * step machine can hand one object to both and a typed built-in can use it later.
   */
  readonly types?: TypeChecker;
}

/**
 * The JCL expression language with Perl's semantics, as JobCenter compiles it.
 *
 * @example
 * ```ts
 * const evaluator = createEvaluator({ sandbox: createSandbox() });
 * const scopes = { a: { n: '10' }, e: {}, v: {}, t: {}, i: {}, o: {} };
 * await evaluator.evaluate(expr, scopes); // `a.n + 1` gives 11
 * await evaluator.assign(assignments, scopes, 'omap'); // `total += o.amount` and so on
 * ```
 */
export function createEvaluator(options: EvaluatorOptions): Evaluator {
  const expressions = new ExpressionEvaluator(options.sandbox);
  return {
    evaluate: (expr, scopes) => expressions.evaluate(expr, scopes),
    assign: (assignments, scopes, kind) => runAssignments(expressions, options.sandbox, assignments, scopes, kind),
    truthy: isTrue,
  };
}
