import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Which workspace packages each package may import: dependencies point one way, toward core, and
 * services never import each other (STYLE.md). The composition roots (cli, bench) and the test
 * harness may import what they wire together.
 */
const BOUNDARIES = {
  'packages/core': [],
  'packages/store': ['core'],
  'packages/store-pglite': ['core', 'store'],
  'packages/broker': ['core'],
  'packages/presence': ['core'],
  'packages/worker': ['core'],
  'packages/flow-control': ['core'],
  'packages/client': ['core', 'store'],
  'packages/jsonrpc': ['core'],
  // The API's client knows the wire (jsonrpc) and the shared types (core), nothing of the server's internals.
  'packages/rpc-client': ['core', 'jsonrpc'],
  // The controller runs remote workers (JSON-RPC) through the worker shim itself: one code path for claims, leases, fencing and outcomes.
  'services/controller': ['core', 'jsonrpc', 'worker'],
  'services/scheduler': ['core'],
};
const ALL_PACKAGES = ['core', 'store', 'store-pglite', 'broker', 'flow-control', 'presence', 'worker', 'client', 'jsonrpc', 'rpc-client', 'controller', 'scheduler', 'cli', 'bench', 'testing'];

function boundaryRules(dir, allowed) {
  const self = dir.split('/')[1];
  const forbidden = ALL_PACKAGES.filter((p) => p !== self && !allowed.includes(p));
  return {
    files: [`${dir}/src/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          ...(forbidden.length ? [{ group: forbidden.map((p) => `@drover/${p}`), message: `${dir} ${allowed.length ? `may import only ${allowed.map((p) => `@drover/${p}`).join(', ')}` : 'may import no other Drover package'} (dependencies point toward core).` }] : []),
          { group: ['@drover/*/*'], message: "Import a package's public API (its index), not its files." },
        ],
      }],
    },
  };
}

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { process: 'readonly', URL: 'readonly', console: 'readonly' },
      // Type information for the type-checked rules: a floating promise in a queue is a lost job waiting to happen.
      // Every .ts file is in the root tsconfig.json (sources, tests and test/**), so the project service finds them
      // all through it; the few .js files (this config, the CLI's launcher) are linted without types below.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // `void` alone does not handle a rejection (Node 20 exits on an unhandled one): a promise left
      // to run needs a .catch that logs, whatever marks it as intended.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
      // An async method that implements a promise-returning port without awaiting is not a bug.
      '@typescript-eslint/require-await': 'off',
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    // Vitest types its asymmetric matchers (expect.any, expect.stringContaining) as any, so that they
    // fit anywhere in an expected object; every such matcher would read as an unsafe assignment.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  ...Object.entries(BOUNDARIES).map(([dir, allowed]) => boundaryRules(dir, allowed)),
  {
    // Libraries log through the injected logger; only composition roots (services' main, the CLI) may print.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/*/src/**/*.test.ts', 'packages/cli/src/**'],
    rules: { 'no-console': 'error' },
  },
);
