import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run against the sources: `@drover/x` resolves to packages/x/src/index.ts (or
// services/x/src/index.ts for the services), no build needed.
const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));
const servicesDir = fileURLToPath(new URL('./services/', import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@drover\/(controller|scheduler)$/, replacement: `${servicesDir}$1/src/index.ts` },
      { find: /^@drover\/([a-z-]+)$/, replacement: `${packagesDir}$1/src/index.ts` },
    ],
  },
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.int.test.ts', 'services/*/test/**/*.int.test.ts', 'test/**/*.test.ts'],
          globalSetup: ['packages/testing/src/global-setup.ts'],
          // One file at a time: fault tests stop RabbitMQ and kill processes, which must not hit
          // another file's test mid-flight; and two cores are already shared with the services.
          fileParallelism: false,
          // Integration tests wait on real services; generous bounds keep a slow CI machine from flaking.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
