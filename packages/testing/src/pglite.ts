/**
 * The embedded variant of a test namespace: a PGlite database per test file, behind the same
 * handles as the PostgreSQL one, so the store suite runs unchanged on both. `pool.query` runs SQL
 * on the embedded database (several statements when no parameters are given).
 */
import type pg from 'pg';
import type { SqlJobStoreOptions } from '@drover/store';
import { createPgliteStore, PgliteJobStore } from '@drover/store-pglite';

/** The part of pg.Pool that the store tests use for their own assertions. */
export interface QueryPool {
  query(text: string, params?: unknown[]): Promise<{ rows: any[] }>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function openPgliteNamespace(namespace: string): Promise<{ store: PgliteJobStore; pool: QueryPool; createStore(options?: SqlJobStoreOptions): PgliteJobStore; close(): Promise<void> }> {
  const store = await createPgliteStore({ namespace, restartGraceMs: 0 });
  const pool: QueryPool = {
    async query(text, params) {
      if (params) return { rows: (await store.db.query(text, params)).rows };
      const results = await store.db.exec(text);
      return { rows: results.at(-1)?.rows ?? [] };
    },
  };
  return {
    store,
    pool,
    // One embedded database per file: more stores share it, each with its own options (a clock, say).
    createStore: (options = {}) => new PgliteJobStore(store.db, { ...options, namespace }),
    close: () => store.close(),
  };
}

export type { pg };
