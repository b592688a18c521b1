/**
 * Role: RelayStore — `dispatch`: the relay's mark and other sessions' row locks. PostgreSQL only
 * (the embedded store has one session, so nothing else can hold a lock).
 */
import { describe, expect, it } from 'vitest';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();

describe('dispatch beside other sessions', () => {
  it('neither publishes nor waits for a ready row another session holds', async () => {
    const [held, free] = (await ns.store.insertMany([{ funcname: 'dp.held' }, { funcname: 'dp.free' }])).map((r) => r.id);
    const other = await ns.pool.connect();
    try {
      // A transaction cancelling the job, say: a worker's claim of it would wait until it ends.
      await other.query('BEGIN');
      await other.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [held!]);
      const published: string[] = [];
      const result = await ns.store.dispatch(100, async (jobs) => void published.push(...jobs.map((j) => j.id)));
      expect(published).toContain(free);
      expect(published).not.toContain(held);
      expect(result.marked).toBe(published.length);
    } finally {
      await other.query('ROLLBACK');
      other.release();
    }
    expect(await ns.store.getJob(held!)).toMatchObject({ state: 'ready' });
  });

  it('does not wait for a row another session took between the read and the mark: that job is left unmarked', async () => {
    const [taken, free] = (await ns.store.insertMany([{ funcname: 'dp.taken' }, { funcname: 'dp.free2' }])).map((r) => r.id);
    const other = await ns.pool.connect();
    try {
      const result = await ns.store.dispatch(100, async () => {
        // A worker's claim in progress, say: it holds the row until it commits. Waiting here, with
        // the batch's rows locked in no particular order, could deadlock with an id-ordered claim.
        await other.query('BEGIN');
        await other.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [taken]);
      });
      expect(result.marked).toBe(result.published - 1);
      const { rows } = await ns.pool.query<{ id: string; state: string }>('SELECT id::text, state FROM jobs WHERE id = ANY ($1::bigint[]) ORDER BY id', [[taken, free]]);
      expect(rows).toEqual([{ id: taken, state: 'ready' }, { id: free, state: 'dispatched' }]);
    } finally {
      await other.query('ROLLBACK');
      other.release();
    }
  });
});
