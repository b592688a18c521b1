/**
 * Needs the EXCLUSIVE service lock: it restarts PostgreSQL (restartDatabase starts it again, pass or fail).
 *   flock -x /tmp/drover-svc.lock npx vitest run services/scheduler/test/restart-grace.int.test.ts
 */
import { describe, expect, it } from 'vitest';
import { restartDatabase, useTestNamespace, waitFor } from '@drover/testing';
import { createScheduler } from '../src/index.js';

const ns = useTestNamespace();
/** Test-sized: a lease that ends within 5 s either side of the database's start waits until 5 s after it. */
const GRACE_MS = 5_000;

describe('the scheduler after a database restart', () => {
  it('leaves a lease that ended during the outage alone until the grace after the restart, then takes it back', async () => {
    const store = ns.createStore({ restartGraceMs: GRACE_MS, restartLookbackMs: GRACE_MS });
    const scheduler = createScheduler({ store, pollMs: 100 });
    await scheduler.start();
    try {
      const { id } = await store.insert({ funcname: 'grace.job' });
      // The lease ends while the database is down or just after it is back: its worker could not have renewed it.
      await store.claim([id], { leaseMs: 1_500 });
      await restartDatabase(ns.databaseUrl);
      const job = await waitFor(async () => {
        const j = await store.getJob(id).catch(() => null);
        return j?.state === 'scheduled' ? j : null;
      }, { what: 'the lease to be taken back after the grace', timeoutMs: 30_000, intervalMs: 100 });
      expect(job.failureLog.map((f) => f.error)).toEqual(['lease expired']);
      const { rows } = await ns.pool.query<{ started: Date; failed_at: Date; lease_end_in_window: boolean }>(
        `SELECT pg_postmaster_start_time() AS started, f.failed_at,
                $2::timestamptz < pg_postmaster_start_time() + $3 * interval '1 millisecond' AS lease_end_in_window
         FROM job_failures f WHERE f.job_id = $1`,
        [id, new Date(job.createdAt.getTime() + 1_500), GRACE_MS],
      );
      const [row] = rows;
      // The restart really happened after the claim, and the lease ended inside the grace window ...
      expect(row!.started.getTime()).toBeGreaterThan(job.createdAt.getTime());
      expect(row!.lease_end_in_window).toBe(true);
      // ... yet it was taken back only once the grace after the start had passed, not at once.
      expect(row!.failed_at.getTime()).toBeGreaterThanOrEqual(row!.started.getTime() + GRACE_MS);
    } finally {
      await scheduler.stop();
    }
  });
});
