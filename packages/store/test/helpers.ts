import type pg from 'pg';
import type { ClaimedJob, NewJob, ProducerStore, WorkerStore } from '@drover/core';

/** Counts rows of a store table in the pool's namespace. */
export async function countRows(pool: pg.Pool, table: 'jobs' | 'finished_jobs' | 'job_failures'): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]!.n;
}

/** A full copy of a live job's row, to prove that a refused write changed nothing. */
export async function liveRow(pool: pg.Pool, id: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await pool.query('SELECT * FROM jobs WHERE id = $1', [id]);
  return rows[0] as Record<string, unknown> | undefined;
}

/** Inserts one job and claims it: a producer's step, then a worker's. */
export async function insertAndClaim(store: ProducerStore & WorkerStore, job: NewJob, leaseMs = 30_000): Promise<ClaimedJob> {
  const { id } = await store.insert(job);
  const [claimed] = await store.claim([id], { leaseMs });
  if (!claimed) throw new Error(`job ${id} could not be claimed`);
  return claimed;
}
