/**
 * No role port: how an adapter maps a namespace to its schema (SQL keywords, reserved schemas).
 * Runs on both adapters.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ValidationError } from '@drover/core';
import { createPgliteStore, type PgliteJobStore } from '@drover/store-pglite';
import { createPgStore, migrate, quoteIdentifier, schemaFor, schemaStatus, type PgJobStore } from '../src/index.js';

const embedded = process.env.DROVER_TEST_STORE === 'pglite';
const made: (PgJobStore | PgliteJobStore)[] = [];

/** A store on a namespace that is an SQL keyword, freshly migrated. */
async function keywordStore(namespace: string): Promise<PgJobStore | PgliteJobStore> {
  if (embedded) {
    const store = await createPgliteStore({ namespace });
    made.push(store);
    return store;
  }
  const store = createPgStore({ connectionString: inject('droverServices').databaseUrl, namespace, max: 2 });
  made.push(store);
  // These names are fixed, not per-file: start from nothing so a kept schema of a failed run does not matter.
  await store.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(namespace)} CASCADE`);
  await migrate(store.pool, { namespace });
  return store;
}

afterAll(async () => {
  for (const store of made) {
    if ('pool' in store) await store.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(await currentSchema(store))} CASCADE`);
    await store.close();
  }
});

async function currentSchema(store: PgJobStore): Promise<string> {
  const { rows } = await store.pool.query<{ s: string }>('SELECT current_schema() AS s');
  return rows[0]!.s;
}

describe('namespaces that are SQL keywords', () => {
  it.each(['user', 'order'])('namespace %s migrates, inserts, claims and completes', async (namespace) => {
    const store = await keywordStore(namespace);
    const { id, inserted } = await store.insert({ funcname: 'kw.job', arg: { n: 1 } });
    expect(inserted).toBe(true);
    const [claimed] = await store.claim([id], { leaseMs: 30_000 });
    expect(claimed?.id).toBe(id);
    expect((await store.complete({ id, grabToken: claimed!.grabToken, result: { ok: true } })).accepted).toBe(true);
    const job = await store.getJob(id);
    expect(job?.state).toBe('completed');
    expect(job?.result).toEqual({ ok: true });
    if ('pool' in store) {
      expect(await currentSchema(store)).toBe(namespace);
      // What workers and read-only commands check before they start.
      expect((await schemaStatus(store.pool, { namespace })).state).toBe('current');
    }
  });
});

describe('reserved schemas', () => {
  it.each(['public', 'information_schema', 'pg_catalog', 'pg_temp'])('refuses %s, naming the namespace', (namespace) => {
    expect(() => schemaFor(namespace)).toThrow(ValidationError);
    expect(() => schemaFor(namespace)).toThrow(/^namespace: .*reserved/);
  });
});
