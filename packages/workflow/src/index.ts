/**
 * @drover/workflow — workflows in JobCenter's language: the syntax tree, the seams between the
 * compiler, the expressions, the step machine and its host, and the engine that runs workflow jobs
 * on PostgreSQL, one transaction per step.
 *
 * @example
 * ```ts
 * import { createWorkflowEngine } from '@drover/workflow';
 *
 * const engine = createWorkflowEngine({ store, broker, machine, logger });
 * await engine.start(); // consumes the stored workflows' queues and steps their runs
 * await engine.stop();
 * ```
 */
export type * from './ast.js';
export * from './ports.js';
export { createWorkflowEngine, type WorkflowEngine, type WorkflowEngineOptions, type WorkflowEngineStats } from './engine/engine.js';
export type { HostExtension } from './engine/host.js';
