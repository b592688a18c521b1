/**
 * Role: Election — `lead`, leader election among processes. PostgreSQL only (an embedded store is
 * one process and always leads).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Leadership } from '@drover/core';
import { useTestNamespace, waitFor } from '@drover/testing';

const ns = useTestNamespace();
const held: Leadership[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((l) => l.close()));
});

async function candidate(name: string, changes: boolean[] = []): Promise<Leadership> {
  const l = await ns.createStore({ max: 1 }).lead(name, { retryMs: 50, onChange: (leading) => changes.push(leading) });
  held.push(l);
  return l;
}

describe('leadership', () => {
  it('elects exactly one of several candidates, and another takes over when the leader steps down', async () => {
    const candidates = await Promise.all([1, 2, 3].map(() => candidate('relay')));
    await waitFor(() => candidates.some((c) => c.leading), { what: 'a leader' });
    // Several retry rounds later there is still exactly one.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(candidates.filter((c) => c.leading)).toHaveLength(1);
    const leader = candidates.find((c) => c.leading)!;
    await leader.close();
    const rest = candidates.filter((c) => c !== leader);
    await waitFor(() => rest.some((c) => c.leading), { what: 'a new leader' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(rest.filter((c) => c.leading)).toHaveLength(1);
  });

  it('stops leading when its session dies, and the election goes on with exactly one leader', async () => {
    const changes: boolean[] = [];
    const first = await candidate('sweeper', changes);
    await waitFor(() => first.leading, { what: 'the first leader' });
    const second = await candidate('sweeper');
    const { rows } = await ns.pool.query<{ pid: number }>(
      // A bigint advisory key shows as classid (high half) and objid (low half), objsubid 1.
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
         AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(current_schema() || '.sweeper', 0)`,
    );
    expect(rows).toHaveLength(1);
    await ns.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    await waitFor(() => changes.includes(false), { what: 'the leader to notice' });
    // Either may win the next round (the old leader reconnects too), but only one.
    await waitFor(() => first.leading || second.leading, { what: 'a leader again' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([first.leading, second.leading].filter(Boolean)).toHaveLength(1);
  });

  it('keeps elections of different names and namespaces apart', async () => {
    const a = await candidate('relay');
    const b = await candidate('other');
    await waitFor(() => a.leading && b.leading, { what: 'both to lead their own election' });
  });
});
