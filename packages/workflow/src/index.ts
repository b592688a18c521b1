// @drover/workflow: JobCenter's workflow language (JCL) for Drover.
//
// @example
// ```ts
// import { createEvaluator, createSandbox, createTypeChecker, parseDuration } from '@drover/workflow';
// const evaluator = createEvaluator({ sandbox: createSandbox({ timeLimitMs: 1000 }) });
// const scopes = { a: { n: '10' }, e: {}, v: {}, t: {}, i: {}, o: {} };
// await evaluator.evaluate(expr, scopes);           // the value of a JCL expression (Perl semantics)
// await evaluator.assign(omap, scopes, 'omap');     // runs an output map over the scopes
// createTypeChecker({ money: { type: 'object' } }).check(5, 'money');
// parseDuration('1 hour 5 minutes');                // 3_900_000 ms
// const engine = createWorkflowEngine({ store, broker, machine, logger });
// await engine.start();                              // runs workflow jobs on PostgreSQL, one transaction per step
// ```
export type * from './ast.js';
export * from './ports.js';
export { createEvaluator, type EvaluatorOptions } from './expr/evaluator.js';
export { createSandbox, type Sandbox, type SandboxOptions, type SandboxResult } from './expr/sandbox.js';
export { createTypeChecker } from './expr/types.js';
export { checkJsonSchema, createReloadableTypeChecker, storedTypeChecker, type ReloadableTypeChecker } from './expr/stored-types.js';
export { parseDuration } from './expr/duration.js';
export { compileWorkflow, compileAction, type CompileOptions, type ActionSignature } from './machine/compile.js';
export { JclCompileError } from './machine/compile-error.js';
export { createMachine, type MachineDeps } from './machine/machine.js';
export { parseJcl } from './parse/parse-jcl.js';
export { JclSyntaxError } from './parse/syntax-error.js';
export { loadJcl, type JclSource, type LoadedUnit } from './load.js';
export { loadUnits, storedCatalog, type LoadedUnits, type SchemaSource, type UnitLoad } from './load-units.js';
export { createWorkflowEngine, type WorkflowEngine, type WorkflowEngineOptions, type WorkflowEngineStats } from './engine/engine.js';
export type { HostExtension } from './engine/host.js';
