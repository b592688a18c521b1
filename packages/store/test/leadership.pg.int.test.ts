/**
 * Role: Election — `lead`, leader election among processes. PostgreSQL only (an embedded store is
 * one process and always leads).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Leadership } from '@drover/core';
import { PgJobStore, createPgPool } from '@drover/store';
import { useTestNamespace, waitFor } from '@drover/testing';

const ns = useTestNamespace();
const held: Leadership[] = [];
const stores: PgJobStore[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((l) => l.close()));
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** A candidate whose sessions carry `name` as their application_name, so pg_stat_activity tells them apart. */
interface Candidate {
  readonly name: string;
  readonly leadership: Leadership;
  /** Every change of its leading, in order. */
  readonly changes: boolean[];
}

let made = 0;
async function candidate(election: string): Promise<Candidate> {
  const name = `cand-${++made}-${ns.namespace}`;
  const store = new PgJobStore(createPgPool({ connectionString: ns.databaseUrl, namespace: ns.namespace, max: 1, applicationName: name }), { namespace: ns.namespace, ownsPool: true });
  stores.push(store);
  const changes: boolean[] = [];
  const leadership = await store.lead(election, { retryMs: 50, onChange: (leading) => changes.push(leading) });
  held.push(leadership);
  return { name, leadership, changes };
}

/**
 * Waits until each of `followers` has tried to take the lead, and failed, twice after this call:
 * a follower's session runs the try-lead statement every round (a leader's runs a ping instead),
 * and pg_stat_activity shows when its last statement started. Two rounds each, seen by the
 * database, are the witness that the election went on, rather than a pause that hopes it did.
 */
async function followersTriedAgain(followers: readonly Candidate[]): Promise<void> {
  const names = followers.map((f) => f.name);
  const since = (await ns.pool.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0]!.now;
  const rounds = new Map<string, Set<number>>(names.map((n) => [n, new Set()]));
  await waitFor(async () => {
    const { rows } = await ns.pool.query<{ name: string; started: Date }>(
      `SELECT application_name AS name, query_start AS started FROM pg_stat_activity
        WHERE application_name = ANY($1) AND query LIKE '%pg_try_advisory_lock%' AND state = 'idle' AND query_start > $2`,
      [names, since],
    );
    for (const r of rows) rounds.get(r.name)!.add(r.started.getTime());
    return [...rounds.values()].every((seen) => seen.size >= 2);
  }, { what: 'every follower to try for the lead twice more', intervalMs: 10 });
}

describe('leadership', () => {
  it('elects exactly one of several candidates, and another takes over when the leader steps down', async () => {
    const candidates = await Promise.all([1, 2, 3].map(() => candidate('relay')));
    await waitFor(() => candidates.some((c) => c.leadership.leading), { what: 'a leader' });
    const leader = candidates.find((c) => c.leadership.leading)!;
    const followers = candidates.filter((c) => c !== leader);
    // Several rounds later the followers still follow: none ever took the lead.
    await followersTriedAgain(followers);
    expect(followers.map((f) => f.changes)).toEqual([[], []]);
    expect(candidates.filter((c) => c.leadership.leading)).toEqual([leader]);

    await leader.leadership.close();
    await waitFor(() => followers.some((c) => c.leadership.leading), { what: 'a new leader' });
    const next = followers.find((c) => c.leadership.leading)!;
    const last = followers.filter((c) => c !== next);
    await followersTriedAgain(last);
    expect(last.map((f) => f.changes)).toEqual([[]]);
    expect(followers.filter((c) => c.leadership.leading)).toEqual([next]);
  });

  it('stops leading when its session dies, and the election goes on with exactly one leader', async () => {
    const first = await candidate('sweeper');
    await waitFor(() => first.leadership.leading, { what: 'the first leader' });
    const second = await candidate('sweeper');
    const { rows } = await ns.pool.query<{ pid: number }>(
      // A bigint advisory key shows as classid (high half) and objid (low half), objsubid 1.
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
         AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(current_schema() || '.sweeper', 0)`,
    );
    expect(rows).toHaveLength(1);
    await ns.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    await waitFor(() => first.changes.includes(false), { what: 'the leader to notice' });
    // Either may win the next round (the old leader reconnects too), but only one: the other keeps
    // trying and failing.
    await waitFor(() => first.leadership.leading || second.leadership.leading, { what: 'a leader again' });
    const [winner, loser] = first.leadership.leading ? [first, second] : [second, first];
    const before = [...loser.changes];
    await followersTriedAgain([loser]);
    expect(loser.changes).toEqual(before);
    expect([first, second].filter((c) => c.leadership.leading)).toEqual([winner]);
  });

  it('keeps elections of different names and namespaces apart', async () => {
    const a = await candidate('relay');
    const b = await candidate('other');
    await waitFor(() => a.leadership.leading && b.leadership.leading, { what: 'both to lead their own election' });
  });
});
