/**
 * The relay's mark and other sessions' row locks: PostgreSQL only (the embedded store has one
 * session, so nothing else can hold a lock).
 */
import { describe, expect, it } from 'vitest';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();

describe('dispatch beside other sessions', () => {
  it('does not wait for a row another session holds: that job is left unmarked, the others are marked', async () => {
    const [held, free] = (await ns.store.insertMany([{ funcname: 'dp.held' }, { funcname: 'dp.free' }])).map((r) => r.id);
    const other = await ns.pool.connect();
    try {
      // A worker's claim in progress, say: it holds the row until it commits.
      await other.query('BEGIN');
      await other.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [held]);
      // Waiting here, with the batch's rows locked in no particular order, could deadlock with an
      // id-ordered claim; the statement returns while the lock is still held.
      const result = await ns.store.dispatch(100, async () => undefined);
      expect(result.published).toBeGreaterThanOrEqual(2);
      const { rows } = await ns.pool.query<{ id: string; state: string }>('SELECT id::text, state FROM jobs WHERE id = ANY ($1::bigint[]) ORDER BY id', [[held, free]]);
      expect(rows).toEqual([{ id: held, state: 'ready' }, { id: free, state: 'dispatched' }]);
    } finally {
      await other.query('ROLLBACK');
      other.release();
    }
  });
});
