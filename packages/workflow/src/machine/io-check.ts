import type { Json } from '../ast.js';
import { WorkflowError, type JsonObject, type TypeChecker } from '../ports.js';
import type { ParamSpec } from './program.js';

/**
 * Checks an object against declared inputs or outputs (JobCenter's do_inargscheck /
 * do_outargscheck): every required one present, every present one of its type; defaults filled
 * in. Undeclared keys are kept, as JobCenter keeps them. Throws WorkflowError of `errorClass`.
 */
export function checkParamsAt(
  params: readonly ParamSpec[],
  value: Json | undefined,
  types: TypeChecker,
  errorClass: 'inargs' | 'outargs',
  what: string,
): JsonObject {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
    throw new WorkflowError(errorClass, `${what} must be an object`);
  }
  // A copy: defaults are filled into it, never into the caller's object.
  const out: JsonObject = { ...value };
  const noun = errorClass === 'inargs' ? 'input argument' : 'output parameter';
  for (const p of params) {
    const v = out[p.name];
    if (v === undefined) {
      if (p.default !== undefined) out[p.name] = structuredClone(p.default);
      else if (!p.optional) throw new WorkflowError(errorClass, `${what}: required ${noun} ${p.name} not found`);
      continue;
    }
    const problem = types.check(v, p.type);
    if (problem !== null) throw new WorkflowError(errorClass, `${what}: ${noun} ${p.name} has the wrong type: ${problem}`);
  }
  return out;
}
