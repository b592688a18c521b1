/**
 * Vitest global setup for integration tests: resolves the services once per run, hands their URLs
 * to every test file, and clears test schemas that earlier runs kept more than a day ago.
 */
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { resolveServices, type ServiceUrls } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    droverServices: ServiceUrls;
  }
}

/** Kept schemas are for looking at a failure; a day later nobody is looking. */
const STALE_SCHEMA_AGE_HOURS = 24;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await resolveServices(['databaseUrl', 'amqpUrl', 'redisUrl']);
  project.provide('droverServices', services.urls);
  const client = new pg.Client({ connectionString: services.urls.databaseUrl });
  await client.connect();
  try {
    // Test schemas carry their creation time in a comment (see useTestNamespace).
    const { rows } = await client.query<{ nspname: string }>(
      `SELECT n.nspname FROM pg_namespace n
       WHERE n.nspname LIKE 'test\\_%' AND obj_description(n.oid, 'pg_namespace') LIKE 'drover test schema %'
         AND split_part(obj_description(n.oid, 'pg_namespace'), ' ', 4)::timestamptz < now() - make_interval(hours => $1)`,
      [STALE_SCHEMA_AGE_HOURS],
    );
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(nspname)} CASCADE`);
  } finally {
    await client.end();
  }
  return () => services.stop();
}
