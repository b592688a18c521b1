/**
 * Turns what the chaos run saw into its figures, per fault kind: the jobs the producer was told
 * were committed, their final states in PostgreSQL, the handlers' run records and the failure
 * logs. Every run past the first is explained by a death of its worker, a partition of it, or an
 * expired lease (the failure log says `lease expired` for that attempt), or counted unexplained.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';

/**
 * How long after a handler ended its outcome may still be unwritten: the write is one round trip
 * batched with others (milliseconds), so a death or partition later than this came after the
 * outcome was written and cannot explain a rerun of that run.
 */
const OUTCOME_WRITE_WINDOW_MS = 2_000;

/** One handler run, from the run records. */
export interface RunRecord {
  id: string;
  attempt: number;
  pid: number;
  start: number;
  end: number | null;
}

/** The figures of one fault kind. */
export interface FaultFigures {
  fault: string;
  injected: number;
  committed: number;
  completed: number;
  failed: number;
  lost: number;
  /** Jobs in the database the producer was not told were committed (an enqueue that failed at commit). */
  committedUnacknowledged: number;
  runsExtra: number;
  extraByDeath: number;
  extraByPartition: number;
  extraByLeaseExpired: number;
  /** Of those taken back by lease expiry: the handler had finished (its outcome write did not land in time). */
  extraAfterHandlerFinished: number;
  extraUnexplained: number;
  completedWithoutLease: number;
  recoverMsP50: number | null;
  recoverMsMax: number | null;
  notRecovered: number;
  /** Ids of lost jobs, unexplained reruns and completions without a lease, for inspection (at most 20 each). */
  examples: { lost: string[]; unexplained: string[]; withoutLease: string[] };
}

/** Reads every process's run records in `dir`. */
export function readRuns(dir: string): RunRecord[] {
  const open = new Map<string, RunRecord>();
  const runs: RunRecord[] = [];
  for (const f of readdirSync(dir).filter((n) => n.startsWith('runs-'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const [kind, id, attempt, pid, at] = line.split(' ');
      if (!id || !attempt || !pid || !at) continue;
      const key = `${id}/${attempt}/${pid}`;
      if (kind === 'S') {
        const r: RunRecord = { id, attempt: Number(attempt), pid: Number(pid), start: Number(at), end: null };
        runs.push(r);
        open.set(key, r);
      } else {
        const r = open.get(key);
        if (r) r.end = Number(at);
      }
    }
  }
  return runs;
}

function percentile(sorted: number[], p: number): number | null {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : null;
}

/** Computes the figures of one phase from the database (a pool on the run's schema) and the records. */
export async function analyse(
  pool: pg.Pool,
  phase: { fault: string; injected: number; committedIds: string[]; recoverMs: (number | null)[] },
  runs: RunRecord[],
  deaths: { pid: number; at: number }[],
  partitions: { pid: number; from: number; to: number }[],
): Promise<FaultFigures> {
  const { rows: finished } = await pool.query<{ id: string; state: string; attempts: number; result: { attempt?: number } | null }>(
    "SELECT id::text, state, attempts, result FROM finished_jobs WHERE arg->>'phase' = $1",
    [phase.fault],
  );
  const { rows: live } = await pool.query<{ id: string }>("SELECT id::text FROM jobs WHERE arg->>'phase' = $1", [phase.fault]);
  const { rows: failures } = await pool.query<{ job_id: string; attempt: number; error: string }>(
    "SELECT f.job_id::text, f.attempt, f.error FROM job_failures f JOIN all_jobs j ON j.id = f.job_id WHERE j.arg->>'phase' = $1",
    [phase.fault],
  );
  const byId = new Map(finished.map((r) => [r.id, r]));
  const committed = new Set(phase.committedIds);
  const lost = phase.committedIds.filter((id) => !byId.has(id));
  const liveNotCommitted = live.filter((r) => !committed.has(r.id)).length;
  const unacknowledged = finished.filter((r) => !committed.has(r.id)).length + liveNotCommitted;
  const expired = new Set(failures.filter((f) => f.error === 'lease expired').map((f) => `${f.job_id}/${f.attempt}`));
  const deathOf = new Map(deaths.map((d) => [d.pid, d.at]));

  const liveIds = new Set(live.map((l) => l.id));
  const runsById = new Map<string, RunRecord[]>();
  for (const r of runs) {
    if (!byId.has(r.id) && !liveIds.has(r.id)) continue;
    const list = runsById.get(r.id) ?? [];
    list.push(r);
    runsById.set(r.id, list);
  }
  let runsExtra = 0;
  let byDeath = 0;
  let byPartition = 0;
  let byLease = 0;
  let afterFinish = 0;
  const unexplained: string[] = [];
  const withoutLease: string[] = [];
  for (const [id, list] of runsById) {
    list.sort((a, b) => a.start - b.start);
    const job = byId.get(id);
    // The run whose outcome was accepted: its result names its attempt.
    const acceptedAttempt = job?.state === 'completed' ? job.result?.attempt : undefined;
    if (acceptedAttempt !== undefined && (expired.has(`${id}/${acceptedAttempt}`) || list.some((r) => r.attempt > acceptedAttempt))) withoutLease.push(id);
    for (const r of list.slice(0, -1)) {
      runsExtra++;
      const died = deathOf.get(r.pid);
      if (list.filter((o) => o.attempt === r.attempt).length > 1) unexplained.push(id);
      // A death or a partition explains a run only if it cut that run short: it came while the
      // handler ran, or just after it finished, before its outcome could be written.
      else if (died !== undefined && died >= r.start && died <= (r.end ?? died) + OUTCOME_WRITE_WINDOW_MS) byDeath++;
      else if (partitions.some((p) => p.pid === r.pid && p.to >= r.start && p.from <= (r.end ?? p.from) + OUTCOME_WRITE_WINDOW_MS)) byPartition++;
      else if (expired.has(`${id}/${r.attempt}`)) {
        byLease++;
        if (r.end !== null) afterFinish++;
      } else unexplained.push(id);
    }
  }
  const recovered = phase.recoverMs.filter((m): m is number => m !== null).sort((a, b) => a - b);
  return {
    fault: phase.fault,
    injected: phase.injected,
    committed: phase.committedIds.length,
    completed: finished.filter((r) => r.state === 'completed' && committed.has(r.id)).length,
    failed: finished.filter((r) => r.state === 'failed' && committed.has(r.id)).length,
    lost: lost.length,
    committedUnacknowledged: unacknowledged,
    runsExtra,
    extraByDeath: byDeath,
    extraByPartition: byPartition,
    extraByLeaseExpired: byLease,
    extraAfterHandlerFinished: afterFinish,
    extraUnexplained: unexplained.length,
    completedWithoutLease: withoutLease.length,
    recoverMsP50: percentile(recovered, 50),
    recoverMsMax: recovered.at(-1) ?? null,
    notRecovered: phase.recoverMs.length - recovered.length,
    examples: { lost: lost.slice(0, 20), unexplained: [...new Set(unexplained)].slice(0, 20), withoutLease: withoutLease.slice(0, 20) },
  };
}
