/**
 * find_jobs stays fast on a large finished table: the statement behind `findJobIds` reads the
 * finished arm through the GIN index on `finished_jobs.arg` (migration 0007), shown by EXPLAIN on
 * 50,000 finished jobs with the planner left to its own choice (enable_seqscan stays on).
 * PostgreSQL only: PGlite runs the same plan code, but the claim is about the server's planner.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();
const FIND_JOB_IDS = readFileSync(new URL('../sql/find-job-ids.sql', import.meta.url), 'utf8');

describe('findJobIds on a large finished table', () => {
  it('uses an index on finished_jobs, with or without an owner, and finds the one matching job', async () => {
    await ns.pool.query(`
      INSERT INTO finished_jobs (id, funcname, arg, state, priority, run_after, max_retries, attempts, failures, created_at, finished_at, delete_after)
      SELECT n, 'f.big', jsonb_build_object('customer', n, 'kind', 'order'), 'completed', 0, now(), 0, 1, 0, now(), now(), now() + interval '1 day'
      FROM generate_series(1, 50000) AS n`);
    await ns.pool.query('ANALYZE finished_jobs');
    const params = [JSON.stringify({ customer: 31337 }), null, 1000, null];
    const { rows } = await ns.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${FIND_JOB_IDS}`, params);
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain('finished_jobs_arg');
    expect(plan).not.toMatch(/Seq Scan on finished_jobs/);
    expect(await ns.store.findJobIds({ customer: 31337 }, { limit: 1000 })).toEqual([{ id: '31337', funcname: 'f.big' }]);
    // A client's own jobs (0008): still no scan of the finished table.
    await ns.pool.query("INSERT INTO job_owners (job_id, who) VALUES (31337, 'owner'), (31338, 'owner')");
    await ns.pool.query('ANALYZE job_owners');
    const owned = await ns.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${FIND_JOB_IDS}`, [params[0], null, 1000, 'owner']);
    expect(owned.rows.map((r) => r['QUERY PLAN']).join('\n')).not.toMatch(/Seq Scan on finished_jobs/);
    expect(await ns.store.findJobIds({ customer: 31337 }, { limit: 1000, owner: 'owner' })).toEqual([{ id: '31337', funcname: 'f.big' }]);
    expect(await ns.store.findJobIds({ customer: 31337 }, { limit: 1000, owner: 'someone-else' })).toEqual([]);
  });
});
