import type { Pos } from '../ast.js';

/**
 * A unit that cannot be loaded: the message names the unit, line and column, so that the author
 * can fix the source; nothing is stored for a unit that throws this.
 */
export class JclCompileError extends Error {
  constructor(
    readonly unit: string,
    readonly pos: Pos,
    readonly detail: string,
  ) {
    super(`${unit} line ${pos.line} column ${pos.column}: ${detail}`);
    this.name = 'JclCompileError';
  }
}
