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
      // A service's subpath export (`@drover/controller/trusted-proxies`) is its src file of that name.
      { find: /^@drover\/(controller|scheduler)\/([a-z-]+)$/, replacement: `${servicesDir}$1/src/$2.ts` },
      { find: /^@drover\/([a-z-]+)$/, replacement: `${packagesDir}$1/src/index.ts` },
    ],
  },
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    // One file at a time across all projects: fault tests stop RabbitMQ and kill processes, which
    // must not hit another file mid-flight, and timing claims (a job starts within a second of its
    // run_after) must not compete for two cores with an embedded database in the next file.
    fileParallelism: false,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
          // Each file still gets a fresh worker and module graph (isolate stays on); a thread
          // starts faster than a process, about a quarter off the unit run here. Not for the
          // integration project: a file there sets the umask, which only a process may do.
          pool: 'threads',
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.int.test.ts', 'services/*/test/**/*.int.test.ts', 'test/**/*.test.ts'],
          globalSetup: ['packages/testing/src/global-setup.ts'],
          // Integration tests wait on real services; generous bounds keep a slow CI machine from flaking.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // The same store suite on the embedded database (PGlite); *.pg.int.test.ts are PostgreSQL-only.
          name: 'integration-pglite',
          include: ['packages/store/test/**/*.int.test.ts'],
          exclude: ['**/*.pg.int.test.ts'],
          env: { DROVER_TEST_STORE: 'pglite' },
          // In-memory databases and no processes of their own: threads, as for the unit files.
          pool: 'threads',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
