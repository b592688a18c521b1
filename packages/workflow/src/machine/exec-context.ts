// What every instruction executor gets: the program, the run's working state (a private copy,
// changed in place), the host and the expression seams; and what it answers.
import type { Assignment, Json } from '../ast.js';
import { WorkflowError, type Evaluator, type Host, type JsonObject, type RunContext, type Scopes, type TypeChecker } from '../ports.js';
import type { Instr, Program } from './program.js';
import type { RunState } from './state.js';

/** The run being advanced, and the seams it uses. */
export interface ExecContext {
  readonly program: Program;
  readonly state: RunState;
  readonly host: Host;
  readonly evaluator: Evaluator;
  readonly types: TypeChecker;
  readonly run: RunContext;
}

/** Where control goes after an instruction: to the instruction at `pc`, or into a wait (state.pending set). */
export type Step = { readonly kind: 'next'; readonly pc: number } | { readonly kind: 'wait' };

/** An instruction of one op, for executors that handle only it. */
export type InstrOf<K extends Instr['op']> = Extract<Instr, { op: K }>;

/** The scopes an expression sees: the run's a/e/v and fresh t/i/o unless given. */
export function scopesOf(ctx: ExecContext, extra: Partial<Scopes> = {}): Scopes {
  const { a, e, v } = ctx.state;
  return { a, e, v, t: {}, i: {}, o: {}, ...extra };
}

/**
 * Runs a statement's own assignments (`name = …`, `events = …`) as an input map and returns `i`,
 * which is how JobCenter passes a system action's arguments.
 */
export async function argumentsOf(ctx: ExecContext, assignments: readonly Assignment[]): Promise<JsonObject> {
  const scopes = scopesOf(ctx);
  await ctx.evaluator.assign(assignments, scopes, 'imap');
  return scopes.i;
}

/** A string-valued argument, or a `normal` error naming it. */
export function stringArg(args: JsonObject, name: string, what: string): string {
  const value = args[name];
  if (typeof value !== 'string' || value === '') throw new WorkflowError('normal', `${what}: ${name} must be a non-empty string`);
  return value;
}

/** An object-valued argument (absent: empty), or a `normal` error naming it. */
export function objectArg(args: JsonObject, name: string, what: string): JsonObject {
  const value: Json | undefined = args[name];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new WorkflowError('normal', `${what}: ${name} must be an object`);
  return value;
}

/** `until` as stored: the host's now plus a duration, as ISO text. */
export function untilAfter(ctx: ExecContext, ms: number): string {
  return new Date(ctx.host.now().getTime() + ms).toISOString();
}
