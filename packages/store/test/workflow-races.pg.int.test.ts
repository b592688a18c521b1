/**
 * Role: WorkflowStore under concurrency, on PostgreSQL (two connections; PGlite has one): two
 * transactions racing for one free lock (exactly one acquires), two waits closing a cycle at the
 * same moment (exactly one is refused as a deadlock), and raises racing for one waiting workflow
 * (exactly one wakeup; the other event is queued). Each race is started on two pools at once and
 * repeated, so that an interleaving that breaks the guard is met.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { WorkflowLockAnswer } from '@drover/core';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();
/** Rounds of each race: enough to meet the interleavings, few enough to stay quick. */
const ROUNDS = 25;

beforeEach(async () => {
  for (const table of ['workflow_locks', 'workflow_lock_waits', 'workflow_wakeups', 'workflow_subscriptions', 'workflow_event_waits']) {
    await ns.pool.query(`DELETE FROM ${table}`);
  }
});

describe('races between connections', () => {
  it('gives a free lock to exactly one of two jobs asking at once', async () => {
    const a = ns.createStore({ max: 2 }).workflows;
    const b = ns.createStore({ max: 2 }).workflows;
    for (let round = 0; round < ROUNDS; round++) {
      // Two new jobs each round: the last round's loser still waits, and reusing its id could close a real cycle.
      const value = `v${round}`;
      const [one, two] = [String(2 * round + 1), String(2 * round + 2)];
      const answers = await Promise.all([a.lock(one, 'race', value, { inherit: false, wait: true }), b.lock(two, 'race', value, { inherit: false, wait: true })]);
      const kinds = answers.map((x) => x.kind).sort();
      expect(kinds).toEqual(['acquired', 'waiting']);
      const winner = answers[0].kind === 'acquired' ? one : two;
      expect(await a.checkIfLockExists('race', value)).toMatchObject({ holder: winner });
    }
  });

  it('refuses exactly one of two waits that close a cycle at the same moment', async () => {
    const a = ns.createStore({ max: 2 }).workflows;
    const b = ns.createStore({ max: 2 }).workflows;
    for (let round = 0; round < ROUNDS; round++) {
      const [x, y] = [`x${round}`, `y${round}`];
      await a.lock('1', 'cyc', x, { inherit: false, wait: true });
      await b.lock('2', 'cyc', y, { inherit: false, wait: true });
      const answers: WorkflowLockAnswer[] = await Promise.all([a.lock('1', 'cyc', y, { inherit: false, wait: true }), b.lock('2', 'cyc', x, { inherit: false, wait: true })]);
      expect(answers.map((r) => r.kind).sort()).toEqual(['deadlock', 'waiting']);
      // Clean up the round: both jobs end.
      await a.releaseAll('1');
      await b.releaseAll('2');
    }
  });

  it('wakes a waiting workflow once when two matching events are raised at once, queueing the other', async () => {
    const a = ns.createStore({ max: 2 }).workflows;
    const b = ns.createStore({ max: 2 }).workflows;
    await a.subscribe('7', 'ev', { k: 1 });
    for (let round = 0; round < ROUNDS; round++) {
      expect(await a.takeEvent('7', ['ev'])).toBeNull();
      const raised = await Promise.all([a.raiseWorkflowEvent({ k: 1, n: 1 }), b.raiseWorkflowEvent({ k: 1, n: 2 })]);
      expect(raised.map((r) => r.woken).sort()).toEqual([0, 1]);
      expect(raised.map((r) => r.queued).sort()).toEqual([0, 1]);
      // The queued one satisfies the next wait at once.
      expect(await a.takeEvent('7', ['ev'])).toMatchObject({ name: 'ev' });
    }
    const { rows } = await ns.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM workflow_wakeups WHERE kind = 'event'");
    expect(rows[0]!.n).toBe(ROUNDS);
  });

  it('never loses an event raised while its wait starts: taken by the wait, or waking it', async () => {
    const a = ns.createStore({ max: 2 }).workflows;
    const b = ns.createStore({ max: 2 }).workflows;
    await a.subscribe('8', 'ev', { k: 2 });
    for (let round = 0; round < ROUNDS; round++) {
      await ns.pool.query('DELETE FROM workflow_wakeups');
      const [taken, raised] = await Promise.all([a.takeEvent('8', ['ev']), b.raiseWorkflowEvent({ k: 2, round })]);
      if (taken) {
        expect(taken.data).toEqual({ k: 2, round });
        expect(raised).toMatchObject({ woken: 0, queued: 1 });
      } else {
        expect(raised).toMatchObject({ woken: 1, queued: 0 });
      }
      const { rows } = await ns.pool.query<{ n: number }>('SELECT (SELECT count(*) FROM workflow_event_queue) + (SELECT count(*) FROM workflow_event_waits) AS n');
      expect(Number(rows[0]!.n)).toBe(0);
    }
  });
});
