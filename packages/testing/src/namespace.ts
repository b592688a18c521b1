/**
 * A fresh namespace (PostgreSQL schema) per test file, migrated before the first test. Dropped
 * after the file when every test passed; kept, with its name printed, when one failed, so its
 * data can be inspected.
 *
 * With DROVER_TEST_STORE=pglite (set by the vitest project that runs the store suite a second
 * time), the namespace lives in an embedded PGlite database of the file's own instead, behind the
 * same handles.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import { PgJobStore, createPgPool, migrate, type SqlJobStoreOptions } from '@drover/store';
import { openPgliteNamespace } from './pglite.js';

/** A test file's namespace and the handles made for it. */
export interface TestNamespace {
  /** The namespace (and schema) name. */
  readonly namespace: string;
  readonly databaseUrl: string;
  /** A pool on the namespace's schema, closed after the file. */
  readonly pool: pg.Pool;
  /** A store on the namespace; more can be made with {@link TestNamespace.createStore}. */
  readonly store: PgJobStore;
  /**
   * A store with its own pool and options (an injected clock, say), closed after the file. Its
   * restart grace is 0 unless given: see {@link TEST_STORE_DEFAULTS}.
   */
  createStore(options?: SqlJobStoreOptions & { max?: number }): PgJobStore;
}

/**
 * What test stores use unless a test says otherwise. The restart grace is 0 because the files run
 * one after another on one PostgreSQL: after a file that restarts it, the store's default grace
 * (30 s) would hold back every expired lease of the next file, whose tests expect them back. The
 * tests of the grace itself give it explicitly.
 */
export const TEST_STORE_DEFAULTS = { restartGraceMs: 0 } as const satisfies SqlJobStoreOptions;

/** A unique, sortable, valid namespace name: `test_` + time + randomness. */
export function testNamespaceName(): string {
  return `test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** Registers the file's hooks and returns its namespace; the handles are ready inside tests. */
export function useTestNamespace(): TestNamespace {
  const namespace = testNamespaceName();
  const closers: (() => Promise<void>)[] = [];
  let failed = false;
  let databaseUrl = '';
  let pool: pg.Pool | undefined;
  let store: PgJobStore | undefined;

  const createStore = (options: SqlJobStoreOptions & { max?: number } = {}): PgJobStore => {
    const { max, ...given } = options;
    const storeOptions = { ...TEST_STORE_DEFAULTS, ...given };
    if (embeddedCreate) return embeddedCreate(storeOptions);
    const own = createPgPool({ connectionString: databaseUrl, namespace, ...(max ? { max } : {}) });
    const made = new PgJobStore(own, { ...storeOptions, namespace, ownsPool: true });
    closers.push(() => made.close());
    return made;
  };

  const embedded = process.env.DROVER_TEST_STORE === 'pglite';
  let embeddedCreate: ((options?: SqlJobStoreOptions) => PgJobStore) | undefined;

  beforeAll(async () => {
    if (embedded) {
      const opened = await openPgliteNamespace(namespace);
      // The suite uses only what both stores share; the casts keep one set of handle types.
      pool = opened.pool as unknown as pg.Pool;
      store = opened.store as unknown as PgJobStore;
      embeddedCreate = (options) => opened.createStore(options) as unknown as PgJobStore;
      closers.push(() => opened.close());
      return;
    }
    databaseUrl = inject('droverServices').databaseUrl;
    pool = createPgPool({ connectionString: databaseUrl, namespace });
    closers.push(() => pool!.end());
    await migrate(pool, { namespace });
    await pool.query(`COMMENT ON SCHEMA ${namespace} IS 'drover test schema ${new Date().toISOString()}'`);
    store = new PgJobStore(pool, { ...TEST_STORE_DEFAULTS, namespace });
  });

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      failed = true;
    });
  });

  afterAll(async () => {
    if (!pool) return;
    if (embedded) {
      for (const close of closers.reverse()) await close();
      return;
    }
    if (failed) {
      process.stderr.write(`\n[drover] a test failed: its data is kept in schema "${namespace}" of ${databaseUrl}\n`);
    } else {
      await pool.query(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
    }
    for (const close of closers.reverse()) await close();
  });

  return {
    namespace,
    get databaseUrl() {
      return databaseUrl;
    },
    get pool() {
      if (!pool) throw new Error('the test namespace is ready only inside tests and hooks');
      return pool;
    },
    get store() {
      if (!store) throw new Error('the test namespace is ready only inside tests and hooks');
      return store;
    },
    createStore,
  };
}
