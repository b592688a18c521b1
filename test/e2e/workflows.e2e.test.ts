/**
 * Workflows survive their engine's death: 50 workflows of three sequential calls each run while
 * the scheduler process that drives them (its workflow engine, with the test-only list machine) is
 * SIGKILLed over and over. Every workflow finishes with the right output, each step's effects
 * appear once (one child per call, one log row per step), and no child runs twice: its worker was
 * never killed.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Json } from '@drover/core';
import { waitFor, type DroverProcess } from '@drover/testing';
import { startsById, useDrover } from './harness.js';

const drover = useDrover({ funcnames: ['e2e.inc', 'e2e.wf3'] });
const MACHINE = fileURLToPath(new URL('../fixtures/workflow-machine.ts', import.meta.url));
const ENV = {
  DROVER_RETRY_BASE_MS: '100',
  DROVER_SCHEDULER_POLL_MS: '100',
  DROVER_RESTART_GRACE_MS: '3000',
  // A workflow job claimed by an engine killed before its start committed comes back within a second or so.
  DROVER_WORKFLOW_LEASE_MS: '1000',
  DROVER_WORKFLOW_MACHINE: MACHINE,
};
const COUNT = 50;
/** Kills: enough to land on every kind of moment (mid-start, mid-step, idle); each restart costs a few seconds from source. */
const KILLS = 6;
const CALLS = [{ call: 'e2e.inc' }, { call: 'e2e.inc' }, { call: 'e2e.inc' }];

let scheduler: DroverProcess;

beforeAll(async () => {
  const program = CALLS as unknown as Json;
  await drover.ns.store.saveWorkflowUnit({ name: 'e2e.wf3', kind: 'workflow', source: JSON.stringify(CALLS), unit: program, compiled: program });
  drover.processes.start(['controller'], drover.env(ENV));
  drover.startWorker(ENV);
  scheduler = drover.processes.start(['scheduler'], drover.env(ENV));
});

async function stepRows(): Promise<number> {
  const { rows } = await drover.ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_steps');
  return rows[0]!.n;
}

async function finishedCount(ids: string[]): Promise<number> {
  const { rows } = await drover.ns.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM finished_jobs WHERE id = ANY($1::bigint[]) AND state IN ('completed', 'failed', 'cancelled')", [ids]);
  return rows[0]!.n;
}

describe('workflows across SIGKILL of their engine', () => {
  it(`finishes ${COUNT} three-call workflows, each step once, while the scheduler is killed over and over`, async () => {
    const ids = (await drover.ns.store.insertMany(Array.from({ length: COUNT }, (_, i) => ({ funcname: 'e2e.wf3', arg: { value: i * 10 } })))).map((r) => r.id);
    let kills = 0;
    const deadline = Date.now() + 150_000;
    while (kills < KILLS && (await finishedCount(ids)) < COUNT && Date.now() < deadline) {
      // Kill once the engine has made progress since it (re)started: a witness that the kill
      // lands on a working engine, with workflows in flight.
      const before = await stepRows();
      const progressed = await waitFor(async () => (await stepRows()) >= before + 15 || (await finishedCount(ids)) === COUNT, { what: 'the engine to step workflows', timeoutMs: 60_000, intervalMs: 50 });
      if (!progressed || (await finishedCount(ids)) === COUNT) break;
      scheduler.kill('SIGKILL');
      await scheduler.exited;
      kills++;
      scheduler = drover.processes.start(['scheduler'], drover.env(ENV));
    }
    await waitFor(async () => (await finishedCount(ids)) === COUNT, { what: 'every workflow to finish', timeoutMs: 60_000, intervalMs: 100 });
    expect(kills).toBeGreaterThanOrEqual(3);

    for (const [i, id] of ids.entries()) {
      const job = await drover.ns.store.getJob(id);
      expect(job, `workflow ${i}`).toMatchObject({ state: 'completed', result: { value: i * 10 + 3 } });
    }
    // One child per call: no step's effects appeared twice.
    const { rows: children } = await drover.ns.pool.query<{ parent_id: string; arg: { value: number } }>(
      'SELECT parent_id::text, arg FROM finished_jobs WHERE parent_id = ANY($1::bigint[]) UNION ALL SELECT parent_id::text, arg FROM jobs WHERE parent_id = ANY($1::bigint[])',
      [ids],
    );
    expect(children).toHaveLength(COUNT * 3);
    for (const [i, id] of ids.entries()) {
      const values = children.filter((c) => c.parent_id === id).map((c) => c.arg.value).sort((a, b) => a - b);
      expect(values, `children of workflow ${i}`).toEqual([i * 10, i * 10 + 1, i * 10 + 2]);
    }
    const { rows: logs } = await drover.ns.pool.query<{ job_id: string; kinds: string[] }>(
      'SELECT job_id::text, array_agg(kind ORDER BY step) AS kinds FROM workflow_steps WHERE job_id = ANY($1::bigint[]) GROUP BY job_id',
      [ids],
    );
    expect(logs).toHaveLength(COUNT);
    for (const log of logs) expect(log.kinds).toEqual(['start', 'children', 'children', 'children']);
    // The worker was never killed, so no child ran twice.
    const starts = startsById(drover.runs().filter((r) => r.funcname === 'e2e.inc'));
    expect(starts.size).toBe(COUNT * 3);
    expect([...starts.values()].every((n) => n === 1)).toBe(true);
    const { rows: runs } = await drover.ns.pool.query('SELECT 1 FROM workflow_runs');
    expect(runs).toHaveLength(0);
  }, 240_000);
});
