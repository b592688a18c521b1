/**
 * Only the commands that own the schema migrate (`migrate`, `up`, `controller`, `scheduler`,
 * `dev`). The others read the ledger: against a namespace never migrated they say so and create
 * nothing, and a worker waits for the schema instead of creating it.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { testNamespaceName, useDroverProcesses, waitFor } from '@drover/testing';

const processes = useDroverProcesses();
const databaseUrl = inject('droverServices').databaseUrl;
const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
const made: string[] = [];

afterAll(async () => {
  for (const ns of made) await admin.query(`DROP SCHEMA IF EXISTS ${ns} CASCADE`);
  await admin.end();
});

function env(namespace: string, extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: databaseUrl, AMQP_URL: inject('droverServices').amqpUrl, DROVER_NAMESPACE: namespace, LOG_LEVEL: 'info', ...extra };
}

async function schemaExists(namespace: string): Promise<boolean> {
  return (await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [namespace])).rowCount === 1;
}

describe('read-only commands', () => {
  it('refuse a namespace that was never migrated, saying so, and create nothing', async () => {
    const namespace = testNamespaceName();
    made.push(namespace);
    for (const args of [['stats'], ['jobs'], ['show', '1'], ['enqueue', 'f.x', '{}'], ['cancel', '1']]) {
      const { code, stderr } = await processes.run(args, env(namespace));
      expect({ args, code }).toEqual({ args, code: 1 });
      expect(stderr).toContain(`namespace ${namespace} is not migrated`);
      expect(stderr).toContain('drover migrate');
    }
    expect(await schemaExists(namespace)).toBe(false);
  });

  it('a worker waits for the schema without creating it, and starts once `drover migrate` made it', async () => {
    const namespace = testNamespaceName();
    made.push(namespace);
    const worker = processes.start(['worker', 'test/fixtures/handlers.ts'], env(namespace));
    await waitFor(() => worker.output().includes(`the schema of namespace ${namespace} is not available`), { what: 'the worker to wait for the schema', timeoutMs: 30_000, intervalMs: 100 });
    expect(await schemaExists(namespace)).toBe(false);
    const migrated = await processes.run(['migrate'], env(namespace));
    expect(migrated.code).toBe(0);
    await waitFor(() => worker.output().includes('worker running'), { what: 'the worker to start on the migrated schema', timeoutMs: 30_000, intervalMs: 100 });
    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  });
});
