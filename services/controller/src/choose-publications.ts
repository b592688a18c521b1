/**
 * Which of a relay step's candidates to publish: every ready job (the store already kept each
 * function within its bound), and of the stale ones (dispatched, unclaimed for staleMs: perhaps
 * lost) only as many as their function's queue has room for below the bound.
 *
 * Why the queue's depth and not a per-job timer alone: a message lost under a standing backlog
 * must come back whatever the queue holds, but a stale job is more often merely waiting behind
 * slow consumers, and a copy of it is a duplicate. Filling only the room below the bound keeps the
 * broker within `maxInBroker` messages per function whatever happens: a function with no workers
 * has a full queue and gets no copies at all; one with slow workers gets copies only into the
 * room its consumers free, which is at most what they hold plus the messages that were lost.
 * Candidates come oldest dispatch first, and a job published again has its dispatched_at
 * refreshed, so each job is published again at most once per staleMs, and a lost message is
 * reached once the messages published before it were consumed (at most maxInBroker of them).
 */
import type { DispatchCandidate } from '@drover/core';

/**
 * Returns the candidates to publish, in order: all ready ones, then the stale ones that fit in
 * their function's room, `maxInBroker - depth - (ready ones of that function in this batch)`.
 * `depths` holds the queue depth of every function that has a stale candidate.
 */
export function choosePublications(jobs: readonly DispatchCandidate[], maxInBroker: number, depths: ReadonlyMap<string, number>): DispatchCandidate[] {
  const chosen = jobs.filter((j) => j.state === 'ready');
  const room = new Map<string, number>();
  for (const [funcname, depth] of depths) room.set(funcname, maxInBroker - depth);
  for (const j of chosen) {
    const left = room.get(j.funcname);
    if (left !== undefined) room.set(j.funcname, left - 1);
  }
  for (const j of jobs) {
    if (j.state !== 'dispatched') continue;
    const left = room.get(j.funcname) ?? 0;
    if (left <= 0) continue;
    room.set(j.funcname, left - 1);
    chosen.push(j);
  }
  return chosen;
}

/** The functions whose queue depth {@link choosePublications} needs: those with a stale candidate. */
export function staleFunctions(jobs: readonly DispatchCandidate[]): string[] {
  return [...new Set(jobs.filter((j) => j.state === 'dispatched').map((j) => j.funcname))];
}
