// The syntax tree of JobCenter's language (JCL), as the parser produces it and the compiler and
// the expression evaluator consume it. It is plain JSON (no classes, no functions), so a compiled
// program can be stored in PostgreSQL and read back by any engine process unchanged.
//
// Names follow JobCenter's doc/jcl.md and its grammar (lib/JobCenter/JCC/Grammar.pm): `a.` the
// workflow's arguments, `e.` its environment, `v.` its variables, `t.` temporaries, `i.` the
// inputs of a call being built, `o.` the outputs of a call (or of the workflow in `wfomap`).

/** Where a node starts in the source: 1-based line and column, as error messages give them. */
export interface Pos {
  readonly line: number;
  readonly column: number;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A variable scope: arguments, environment, variables, temporaries, inputs, outputs. */
export type Scope = 'a' | 'e' | 'v' | 't' | 'i' | 'o';

/** One step of a variable path: a key, or a key followed by `[n]` (JobCenter's varpart-array). */
export type PathPart = { readonly key: string; readonly index?: number };

// ---------------------------------------------------------------------------------------------
// Expressions (JobCenter's `rhs`)

export type BinaryOperator =
  | '**' | '*' | '/' | '//' | '%' | '+' | '-' | '.' | 'x'
  | '<' | '<=' | '>' | '>=' | '==' | '!=' | 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne'
  | '&&' | '||' | 'and' | 'or' | 'xor';

export type UnaryOperator = '!' | '-' | '+' | 'not';

export type Expr =
  | { readonly kind: 'literal'; readonly value: Json; readonly pos: Pos }
  /** `scope.path…`; in an assignment's left side the scope may be implicit (see Assignment). */
  | { readonly kind: 'variable'; readonly scope: Scope; readonly path: readonly PathPart[]; readonly pos: Pos }
  | { readonly kind: 'unary'; readonly op: UnaryOperator; readonly operand: Expr; readonly pos: Pos }
  /** Operators are kept as written; precedence is the parser's job (Perl's, as JobCenter runs them). */
  | { readonly kind: 'binary'; readonly op: BinaryOperator; readonly left: Expr; readonly right: Expr; readonly pos: Pos }
  /** `left =~ /pattern/`: true when the pattern (a JavaScript RegExp source) matches. */
  | { readonly kind: 'match'; readonly subject: Expr; readonly pattern: string; readonly flags: string; readonly pos: Pos }
  /** A built-in function (concat, defined, ifdef, tostring, tonumber, array, object, …). */
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly pos: Pos }
  /**
   * An inline block: `[[ … ]]` or `[delim[ … ]delim]`. JobCenter's are Perl; Drover's are
   * JavaScript, run in the sandbox. As an expression its value is the block's completion value.
   */
  | { readonly kind: 'block'; readonly code: string; readonly pos: Pos };

// ---------------------------------------------------------------------------------------------
// Assignments (imap, omap, wfomap, eval/let, wfenv, config, raise_event, subscribe, …)

export type AssignmentOperator = '=' | '.=' | ',=' | '+=' | '-=' | '*=' | '/=' | '//=' | '||=';

export type Assignment =
  /**
   * `lhs op rhs`. `scope` is null when the left side names no scope (`foo = 1`): the map's
   * default scope applies (`i` in an input map, `v` in an output map or eval, `o` in wfomap).
   */
  | {
      readonly kind: 'assign';
      readonly scope: Scope | null;
      readonly path: readonly PathPart[];
      readonly op: AssignmentOperator;
      readonly value: Expr;
      readonly pos: Pos;
    }
  /** `<a, b>` copies those names from the map's source scope; `<*>` copies all (names null). */
  | { readonly kind: 'magic'; readonly names: readonly string[] | null; readonly pos: Pos }
  /** An inline block in place of the whole assignment list, given the scopes as objects. */
  | { readonly kind: 'block'; readonly code: string; readonly pos: Pos };

// ---------------------------------------------------------------------------------------------
// Statements

/** `call NAME:` and its relatives: the input map and the optional `into:` output map. */
export interface CallBody {
  readonly name: string;
  readonly imap: readonly Assignment[];
  readonly omap: readonly Assignment[];
}

export type Statement =
  | { readonly kind: 'assert'; readonly condition: Expr; readonly message: Expr; readonly pos: Pos }
  | ({ readonly kind: 'call'; readonly pos: Pos } & CallBody)
  | {
      readonly kind: 'case';
      readonly subject: Expr;
      readonly whens: readonly { readonly labels: readonly string[]; readonly body: Block; readonly pos: Pos }[];
      readonly otherwise: Block | null;
      readonly pos: Pos;
    }
  /** Starts a child workflow and does not wait for it; its outcome never reaches the parent. */
  | { readonly kind: 'detachflow'; readonly name: string; readonly imap: readonly Assignment[]; readonly pos: Pos }
  /** `eval:` and `let:` (aliases). */
  | { readonly kind: 'eval'; readonly assignments: readonly Assignment[]; readonly pos: Pos }
  | { readonly kind: 'goto'; readonly label: string; readonly pos: Pos }
  | {
      readonly kind: 'if';
      /** `if` then each `elsif`, in order; the first true condition's body runs. */
      readonly branches: readonly { readonly condition: Expr; readonly body: Block; readonly pos: Pos }[];
      readonly otherwise: Block | null;
      readonly pos: Pos;
    }
  /**
   * `interface NAME:` / the destinations / `call EXPR:` with a call body: calls the destination
   * whose name the expression yields (each must implement interface NAME); none matching is an error.
   */
  | {
      readonly kind: 'interface-call';
      readonly interfaceName: string;
      readonly destinations: readonly string[];
      readonly selector: Expr;
      readonly imap: readonly Assignment[];
      readonly omap: readonly Assignment[];
      readonly pos: Pos;
    }
  | { readonly kind: 'label'; readonly label: string; readonly pos: Pos }
  | { readonly kind: 'lock'; readonly lockType: string; readonly value: Expr; readonly pos: Pos }
  /** `wait_for_lock TYPE:` with `value = …` and `wait = yes|no|<seconds>`. */
  | { readonly kind: 'wait-for-lock'; readonly lockType: string; readonly assignments: readonly Assignment[]; readonly pos: Pos }
  | { readonly kind: 'unlock'; readonly lockType: string; readonly value: Expr; readonly pos: Pos }
  /**
   * `map NAME using EXPR:` starts one child per element of the array (`e._v` the element,
   * `e._i` its index in the input map) and, once all are done, runs `collect:` per child in order.
   */
  | {
      readonly kind: 'map';
      readonly name: string;
      readonly using: Expr;
      readonly imap: readonly Assignment[];
      readonly collect: readonly Assignment[];
      readonly pos: Pos;
    }
  | { readonly kind: 'raise-error'; readonly message: Expr; readonly pos: Pos }
  /** `raise_event:` with `event = …` (the event's data; JobCenter names it by `name`). */
  | { readonly kind: 'raise-event'; readonly assignments: readonly Assignment[]; readonly pos: Pos }
  | { readonly kind: 'repeat'; readonly body: Block; readonly until: Expr; readonly pos: Pos }
  | { readonly kind: 'return'; readonly pos: Pos }
  /** `sleep EXPR`: a duration (`"10 seconds"`, `"1 hour 5 minutes"`, or a number of seconds). */
  | { readonly kind: 'sleep'; readonly duration: Expr; readonly pos: Pos }
  /** Starts every child in order, waits for all, then runs their output maps in order. */
  | {
      readonly kind: 'split';
      readonly children: readonly (
        | ({ readonly kind: 'callflow'; readonly pos: Pos } & CallBody)
        | Extract<Statement, { kind: 'map' }>
      )[];
      readonly pos: Pos;
    }
  /** `subscribe:` with `name = …` and `mask = …`. */
  | { readonly kind: 'subscribe'; readonly assignments: readonly Assignment[]; readonly pos: Pos }
  | { readonly kind: 'unsubscribe'; readonly assignments: readonly Assignment[]; readonly pos: Pos }
  /** `wait_for_event:` with `events = …` and `timeout = …` (seconds), then `into:` (`o.` the event). */
  | {
      readonly kind: 'wait-for-event';
      readonly assignments: readonly Assignment[];
      readonly omap: readonly Assignment[];
      readonly pos: Pos;
    }
  | { readonly kind: 'try'; readonly body: Block; readonly handler: Block; readonly pos: Pos }
  | { readonly kind: 'while'; readonly condition: Expr; readonly body: Block; readonly pos: Pos };

export type Block = readonly Statement[];

// ---------------------------------------------------------------------------------------------
// Units

/** `in:` / `out:` / `env:` lines: `name type [default]` or `name type optional`. */
export interface IoSpec {
  readonly name: string;
  /** A JSON type (`number string boolean null array object`, JobCenter's `json` = any) or a named schema. */
  readonly type: string;
  /** `in:` / `env:` only: the default, which makes the input optional. */
  readonly default?: Json;
  /** `out:` only. */
  readonly optional: boolean;
  readonly pos: Pos;
}

/** A `locks:` line: `type value [inherit] [manual]`; a manual lock's value is `_`. */
export interface LockSpec {
  readonly type: string;
  readonly value: string;
  readonly inherit: boolean;
  readonly manual: boolean;
  readonly pos: Pos;
}

interface UnitCommon {
  readonly name: string;
  /** `interface NAME:` inside the unit: its in/out come from that interface. */
  readonly implements: string | null;
  readonly in: readonly IoSpec[];
  readonly out: readonly IoSpec[];
  readonly role: readonly string[];
  readonly config: readonly Assignment[];
  readonly pos: Pos;
}

export interface WorkflowUnit extends UnitCommon {
  readonly kind: 'workflow';
  readonly wfenv: readonly Assignment[];
  readonly locks: readonly LockSpec[];
  readonly wfomap: readonly Assignment[];
  readonly body: Block;
}

/**
 * `action` (served by workers: a Drover function), `procedure` (JobCenter: a stored procedure;
 * Drover: also a function, declared for its types) and `interface` (only a signature, which
 * workflows and actions implement and `interface … call` dispatches over).
 */
export interface ActionUnit extends UnitCommon {
  readonly kind: 'action' | 'procedure' | 'interface';
  readonly env: readonly IoSpec[];
}

export type Unit = WorkflowUnit | ActionUnit;
