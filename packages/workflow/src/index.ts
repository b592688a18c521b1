export type * from './ast.js';
export * from './ports.js';
