// Instructions that start child jobs: call, callflow, split, map, interface call (all "children":
// start every child in order, wait for all, then run their output maps in order), and detachflow.
// Semantics of JobCenter's do_wait_for_children: the first failed child fails the wait with class
// `childerror`, and the others are cancelled.
import type { Assignment } from '../ast.js';
import { WorkflowError, type ChildOutcome, type JsonObject } from '../ports.js';
import { scopesOf, type ExecContext, type InstrOf, type Step } from './exec-context.js';
import { checkParamsAt } from './io-check.js';
import type { CalleeSignature, ChildPart } from './program.js';
import type { PendingChild, StoredOutcome } from './state.js';

function signatureOf(ctx: ExecContext, callee: string): CalleeSignature {
  const sig = ctx.program.callees[callee];
  // The compiler stores every callee it accepted; a missing one is a corrupt program, not a workflow error.
  if (!sig) throw new Error(`compiled program of ${ctx.program.unit} lacks the signature of ${callee}`);
  return sig;
}

/** Builds one child's input object (fresh `i`/`t`, `e` possibly extended) and checks it. */
async function inputOf(ctx: ExecContext, callee: string, imap: readonly Assignment[], e: JsonObject): Promise<JsonObject> {
  const scopes = scopesOf(ctx, { e });
  await ctx.evaluator.assign(imap, scopes, 'imap');
  return checkParamsAt(signatureOf(ctx, callee).in, scopes.i, ctx.types, 'inargs', `input of ${callee}`);
}

/** The destination an interface call's selector picks. */
async function destinationOf(ctx: ExecContext, part: Extract<ChildPart, { kind: 'one' }>): Promise<string> {
  if (part.callee !== null) return part.callee;
  const chosen = part.selector ? await ctx.evaluator.evaluate(part.selector, scopesOf(ctx)) : null;
  if (typeof chosen !== 'string' || !part.destinations.includes(chosen)) {
    throw new WorkflowError('normal', `interface ${String(part.interfaceName)} has no destination ${JSON.stringify(chosen)}`, part.pos);
  }
  return chosen;
}

/** Starts every child of the instruction in order; waits unless there are none (an empty map). */
export async function startChildren(ctx: ExecContext, instr: InstrOf<'children'>): Promise<Step> {
  const started: PendingChild[] = [];
  const start = async (part: number, callee: string, arg: JsonObject): Promise<void> => {
    const jobId = await ctx.host.createChild({ name: callee, arg, detached: false, inheritLocks: ctx.program.inheritLocks });
    started.push({ jobId, part, callee });
  };
  try {
    for (const [index, part] of instr.parts.entries()) {
      if (part.kind === 'one') {
        const callee = await destinationOf(ctx, part);
        await start(index, callee, await inputOf(ctx, callee, part.imap, ctx.state.e));
        continue;
      }
      const list = await ctx.evaluator.evaluate(part.using, scopesOf(ctx));
      if (!Array.isArray(list)) throw new WorkflowError('normal', `map ${part.callee}: using must give an array`, part.pos);
      for (const [i, element] of list.entries()) {
        // JobCenter shows the element and its index to the input map as e._v and e._i.
        await start(index, part.callee, await inputOf(ctx, part.callee, part.imap, { ...ctx.state.e, _v: element, _i: i }));
      }
    }
  } catch (err) {
    // Children already started must not outlive the statement that failed to start the rest.
    if (started.length > 0) await ctx.host.cancelChildren(started.map((c) => c.jobId));
    throw err;
  }
  if (started.length === 0) return { kind: 'next', pc: instr.next };
  ctx.state.pending = { kind: 'children', children: started, outcomes: {} };
  return { kind: 'wait' };
}

/** Takes in the outcomes the wake brings; fails on the first failed child, collects when all are in. */
export async function resumeChildren(ctx: ExecContext, instr: InstrOf<'children'>, outcomes: readonly ChildOutcome[]): Promise<Step> {
  const pending = ctx.state.pending;
  if (pending?.kind !== 'children') throw new Error('resumeChildren without pending children');
  const collected: Record<string, StoredOutcome> = { ...pending.outcomes };
  for (const o of outcomes) {
    // Outcomes of jobs this wait does not know (a stale or repeated report) are ignored.
    if (!pending.children.some((c) => c.jobId === o.jobId) || o.jobId in collected) continue;
    collected[o.jobId] = { succeeded: o.succeeded, ...(o.result !== undefined ? { result: o.result } : {}), ...(o.error !== undefined ? { error: o.error } : {}) };
    if (!o.succeeded) {
      const running = pending.children.map((c) => c.jobId).filter((id) => !(id in collected));
      ctx.state.pending = null;
      if (running.length > 0) await ctx.host.cancelChildren(running);
      throw new WorkflowError('childerror', `childjob ${o.jobId} raised error`, instr.pos, { error: o.error ?? null });
    }
  }
  if (pending.children.some((c) => !(c.jobId in collected))) {
    ctx.state.pending = { ...pending, outcomes: collected };
    return { kind: 'wait' };
  }
  ctx.state.pending = null;
  for (const child of pending.children) {
    const part = instr.parts[child.part];
    if (!part) throw new Error(`child ${child.jobId} names part ${child.part}, which the instruction lacks`);
    const o = checkParamsAt(signatureOf(ctx, child.callee).out, collected[child.jobId]?.result, ctx.types, 'outargs', `output of ${child.callee}`);
    await ctx.evaluator.assign(part.kind === 'one' ? part.omap : part.collect, scopesOf(ctx, { o }), 'omap');
  }
  return { kind: 'next', pc: instr.next };
}

/** Starts a detached child: its outcome never reaches this run. */
export async function detach(ctx: ExecContext, instr: InstrOf<'detach'>): Promise<Step> {
  const arg = await inputOf(ctx, instr.callee, instr.imap, ctx.state.e);
  await ctx.host.createChild({ name: instr.callee, arg, detached: true, inheritLocks: false });
  return { kind: 'next', pc: instr.next };
}
