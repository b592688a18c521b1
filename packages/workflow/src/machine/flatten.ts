// Flattens the statement tree into the instruction list. Each statement appends its instructions;
// forward targets (the end of an `if`, the exit of a loop) are patched once known. A `try` body's
// instructions get the handler's first index as their catch target, as JobCenter gives each task
// a static on-error task.
import type { Block, Expr, Pos, Statement } from '../ast.js';
import { JclCompileError } from './compile-error.js';
import type { ChildPart, Instr } from './program.js';

/** An instruction while its targets may still change. */
type Draft = { -readonly [K in keyof Instr]: Instr[K] } & Record<string, unknown>;

/** Builds the instruction list of one unit. */
export class Flattener {
  private readonly out: Draft[] = [];
  private readonly labels = new Map<string, number>();
  private readonly gotos: { index: number; label: string; pos: Pos }[] = [];
  private catchTarget: number | null = null;

  /** `lockInherit` says whether a declared lock type has `inherit` (children may borrow it). */
  constructor(
    private readonly unit: string,
    private readonly lockInherit: (type: string) => boolean = () => false,
  ) {}

  /**
   * Appends an instruction with the current catch target; returns its index. Targets not yet
   * known are written as -1 and patched before `finish` returns.
   */
  emit(instr: Record<string, unknown> & { op: string; pos: Pos }): number {
    this.out.push({ ...instr, catch: this.catchTarget } as Draft);
    return this.out.length - 1;
  }

  /** The index the next instruction will get. */
  here(): number {
    return this.out.length;
  }

  private patch(index: number, field: string, value: number): void {
    (this.out[index] as Record<string, unknown>)[field] = value;
  }

  /** Appends a block; straight-line instructions fall through to the next index. */
  block(block: Block): void {
    for (const s of block) this.statement(s);
  }

  private simple(instr: Record<string, unknown> & { op: string; pos: Pos }): void {
    const at = this.emit({ ...instr, next: -1 });
    this.patch(at, 'next', at + 1);
  }

  /** Lays out one statement; the exhaustive switch makes a new statement kind a type error here. */
  private statement(s: Statement): void {
    switch (s.kind) {
      case 'assert':
        return this.simple({ op: 'assert', condition: s.condition, message: s.message, pos: s.pos });
      case 'eval':
        return this.simple({ op: 'eval', assignments: s.assignments, pos: s.pos });
      case 'call':
        return this.simple({ op: 'children', parts: [oneChild(s.name, s.imap, s.omap, s.pos)], pos: s.pos });
      case 'interface-call': {
        const part: ChildPart = {
          kind: 'one', callee: null, selector: s.selector, interfaceName: s.interfaceName,
          destinations: s.destinations, imap: s.imap, omap: s.omap, pos: s.pos,
        };
        return this.simple({ op: 'children', parts: [part], pos: s.pos });
      }
      case 'map':
        return this.simple({ op: 'children', parts: [mapChild(s)], pos: s.pos });
      case 'split': {
        const parts = s.children.map((c) => (c.kind === 'map' ? mapChild(c) : oneChild(c.name, c.imap, c.omap, c.pos)));
        return this.simple({ op: 'children', parts, pos: s.pos });
      }
      case 'detachflow':
        return this.simple({ op: 'detach', callee: s.name, imap: s.imap, pos: s.pos });
      case 'sleep':
        return this.simple({ op: 'sleep', duration: s.duration, pos: s.pos });
      case 'wait-for-event':
        return this.simple({ op: 'wait-event', assignments: s.assignments, omap: s.omap, pos: s.pos });
      case 'subscribe':
      case 'unsubscribe':
      case 'raise-event':
        return this.simple({ op: s.kind, assignments: s.assignments, pos: s.pos });
      case 'lock':
        return this.simple({ op: 'lock', lockType: s.lockType, inherit: this.lockInherit(s.lockType), value: s.value, assignments: null, pos: s.pos });
      case 'wait-for-lock':
        return this.simple({ op: 'lock', lockType: s.lockType, inherit: this.lockInherit(s.lockType), value: null, assignments: s.assignments, pos: s.pos });
      case 'unlock':
        return this.simple({ op: 'unlock', lockType: s.lockType, value: s.value, pos: s.pos });
      case 'raise-error':
        this.emit({ op: 'raise-error', message: s.message, pos: s.pos });
        return;
      case 'return':
        // The end instruction's index is known only at the end: resolved as a goto to it.
        this.gotos.push({ index: this.emit({ op: 'jump', target: -1, pos: s.pos }), label: END_LABEL, pos: s.pos });
        return;
      case 'goto':
        this.gotos.push({ index: this.emit({ op: 'jump', target: -1, pos: s.pos }), label: s.label, pos: s.pos });
        return;
      case 'label':
        if (this.labels.has(s.label)) throw new JclCompileError(this.unit, s.pos, `duplicate label ${s.label}`);
        this.labels.set(s.label, this.here());
        return;
      case 'if':
        return this.ifChain(s.branches, s.otherwise);
      case 'case':
        return this.caseOf(s);
      // while: test at the top, body, jump back; the test's false branch leaves the loop.
      case 'while': {
        const top = this.emit({ op: 'branch', condition: s.condition, then: -1, otherwise: -1, pos: s.pos });
        this.patch(top, 'then', this.here());
        this.block(s.body);
        this.emit({ op: 'jump', target: top, pos: s.pos });
        this.patch(top, 'otherwise', this.here());
        return;
      }
      // repeat: body first, then the test; a false `until` jumps back to the top.
      case 'repeat': {
        const top = this.here();
        this.block(s.body);
        const test = this.emit({ op: 'branch', condition: s.until, then: -1, otherwise: top, pos: s.pos });
        this.patch(test, 'then', this.here());
        return;
      }
      case 'try':
        return this.tryCatch(s.body, s.handler, s.pos);
    }
  }

  /**
   * `if`/`elsif`/`else`: each condition branches to its body or to the next test; every body ends
   * with a jump past the whole chain.
   */
  private ifChain(branches: readonly { condition: Expr; body: Block; pos: Pos }[], otherwise: Block | null): void {
    const exits: number[] = [];
    for (const b of branches) {
      const test = this.emit({ op: 'branch', condition: b.condition, then: -1, otherwise: -1, pos: b.pos });
      this.patch(test, 'then', this.here());
      this.block(b.body);
      exits.push(this.emit({ op: 'jump', target: -1, pos: b.pos }));
      this.patch(test, 'otherwise', this.here());
    }
    if (otherwise) this.block(otherwise);
    for (const j of exits) this.patch(j, 'target', this.here());
  }

  /** `case`: one switch instruction with a target per `when`; bodies do not fall through. */
  private caseOf(s: Extract<Statement, { kind: 'case' }>): void {
    const sw = this.emit({ op: 'switch', subject: s.subject, cases: [], otherwise: -1, pos: s.pos });
    const cases: { labels: readonly string[]; target: number }[] = [];
    const exits: number[] = [];
    for (const w of s.whens) {
      cases.push({ labels: w.labels, target: this.here() });
      this.block(w.body);
      exits.push(this.emit({ op: 'jump', target: -1, pos: w.pos }));
    }
    this.patch(sw, 'otherwise', this.here());
    if (s.otherwise) this.block(s.otherwise);
    (this.out[sw] as Record<string, unknown>).cases = cases;
    for (const j of exits) this.patch(j, 'target', this.here());
  }

  /**
   * `try`/`catch`: body instructions name the handler as catch target; a jump skips the handler
   * when the body ends normally. The handler itself is caught by the enclosing try, if any.
   */
  private tryCatch(body: Block, handler: Block, pos: Pos): void {
    const outer = this.catchTarget;
    const bodyStart = this.here();
    // The handler's index is unknown until the body is laid out: mark, then patch every body instruction.
    this.catchTarget = -2;
    this.block(body);
    this.catchTarget = outer;
    const skip = this.emit({ op: 'jump', target: -1, pos });
    const handlerStart = this.here();
    for (let i = bodyStart; i < skip; i++) if (this.out[i]?.catch === -2) (this.out[i] as Record<string, unknown>).catch = handlerStart;
    this.block(handler);
    this.patch(skip, 'target', this.here());
  }

  /** Appends the end instruction, resolves gotos and returns the finished list. */
  finish(pos: Pos): Instr[] {
    this.labels.set(END_LABEL, this.emit({ op: 'end', pos }));
    for (const g of this.gotos) {
      const target = this.labels.get(g.label);
      if (target === undefined) throw new JclCompileError(this.unit, g.pos, `goto to unknown label ${g.label}`);
      this.patch(g.index, 'target', target);
    }
    return this.out as unknown as Instr[];
  }
}

/** Not a valid JCL label (labels are identifiers), so it cannot clash with one. */
const END_LABEL = ' end';

function oneChild(name: string, imap: ChildPart['imap'], omap: ChildPart['imap'], pos: Pos): ChildPart {
  return { kind: 'one', callee: name, selector: null, interfaceName: null, destinations: [], imap, omap, pos };
}

function mapChild(s: Extract<Statement, { kind: 'map' }>): ChildPart {
  return { kind: 'map', callee: s.name, using: s.using, imap: s.imap, collect: s.collect, pos: s.pos };
}
