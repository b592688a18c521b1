export type * from './ast.js';
export * from './ports.js';
export { parseJcl } from './parse/parse-jcl.js';
export { JclSyntaxError } from './parse/syntax-error.js';
