export type * from './ast.js';
export * from './ports.js';
export { createWorkflowEngine, type WorkflowEngine, type WorkflowEngineOptions, type WorkflowEngineStats } from './engine/engine.js';
export type { HostExtension } from './engine/host.js';
