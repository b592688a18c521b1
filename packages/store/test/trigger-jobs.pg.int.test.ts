/**
 * The read behind a trigger's jobs uses migration 0011's index on finished_jobs, the table that
 * holds every kept exit status: without it, the read scans that table. PostgreSQL only (it needs a
 * connection of its own for SET LOCAL).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();

describe('triggerJobs on PostgreSQL', () => {
  it('reads finished_jobs by its trigger index, not by a scan', async () => {
    const { id } = await ns.store.createTrigger({ spec: '@client', funcname: 'tj.plan' });
    // A finished table as the planner sees a large one: scans are off the table when an index can serve.
    await ns.pool.query('ANALYZE finished_jobs');
    const client = await ns.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      // The statement the store runs, as it runs it.
      const statement = readFileSync(new URL('../sql/trigger-jobs.sql', import.meta.url), 'utf8');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement}`, [id, null, 10]);
      await client.query('ROLLBACK');
      expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index Scan.* using finished_jobs_by_trigger/);
      expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index Scan( Backward)? (using|on) jobs_by_trigger/);
    } finally {
      client.release();
    }
  });
});
