import type { Block, Statement } from '../ast.js';

// The compiler's checks look at every statement, however deeply nested in blocks.

/** Calls `visit` on every statement of the block, nested ones included, in source order. */
export function walkStatements(block: Block, visit: (s: Statement) => void): void {
  for (const s of block) {
    visit(s);
    switch (s.kind) {
      case 'if':
        for (const b of s.branches) walkStatements(b.body, visit);
        if (s.otherwise) walkStatements(s.otherwise, visit);
        break;
      case 'case':
        for (const w of s.whens) walkStatements(w.body, visit);
        if (s.otherwise) walkStatements(s.otherwise, visit);
        break;
      case 'while':
      case 'repeat':
        walkStatements(s.body, visit);
        break;
      case 'try':
        walkStatements(s.body, visit);
        walkStatements(s.handler, visit);
        break;
      default:
        break;
    }
  }
}
