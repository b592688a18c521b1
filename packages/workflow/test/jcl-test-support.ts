// Helpers shared by the JCL parser's unit tests (kept out of src so that the build leaves them out).
import { expect } from 'vitest';
import type { Statement, Unit } from '../src/ast.js';
import { parseJcl } from '../src/parse/parse-jcl.js';

/** A copy without `pos` fields, for comparing shapes; positions get their own assertions. */
export function noPos(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(noPos);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'pos').map(([k, v]) => [k, noPos(v)]));
  }
  return value;
}

/** Lines joined by newlines, each indented by one tab per leading `>` (tabs are easy to lose in an editor). */
export function lines(...ls: string[]): string {
  return ls.map((l) => l.replace(/^>+/, (m) => '\t'.repeat(m.length))).join('\n') + '\n';
}

/** The statements of `workflow w:` whose do: block holds the given lines (one more tab each). */
export function body(...ls: string[]): Statement[] {
  const [unit] = parseJcl(lines('workflow w:', 'do:', ...ls.map((l) => `>${l}`)), 'w.wf');
  if (unit?.kind !== 'workflow') throw new Error('not a workflow');
  return [...unit.body];
}

/** The one unit of a source. */
export function unit(source: string): Unit {
  const units = parseJcl(source, 'u.wf');
  expect(units).toHaveLength(1);
  return units[0] as Unit;
}
