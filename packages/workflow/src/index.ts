export type * from './ast.js';
export * from './ports.js';
export { compileWorkflow, compileAction, type CompileOptions, type ActionSignature } from './machine/compile.js';
export { JclCompileError } from './machine/compile-error.js';
export { createMachine, type MachineDeps } from './machine/machine.js';
