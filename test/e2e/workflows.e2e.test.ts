/**
 * Workflows survive their engine's death: 200 JCL workflows (a call, a map over two children, a
 * call) run while the scheduler process that drives them (its workflow engine) is SIGKILLed over
 * and over. Every workflow finishes with the right output, each step's effects appear once (one
 * child per call and per mapped element, with the arguments that step gave it), and no child runs
 * twice: its worker was never killed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type DroverProcess } from '@drover/testing';
import { createTypeChecker, loadJcl } from '@drover/workflow';
import { startsById, useDrover } from './harness.js';

const drover = useDrover({ funcnames: ['e2e.inc', 'e2e.flow'] });
const ENV = {
  DROVER_RETRY_BASE_MS: '100',
  DROVER_SCHEDULER_POLL_MS: '100',
  DROVER_RESTART_GRACE_MS: '3000',
  // A workflow job claimed by an engine killed before its start committed comes back within a second or so.
  DROVER_WORKFLOW_LEASE_MS: '1000',
};
const COUNT = 200;
/** Kills: enough to land on every kind of moment (mid-start, mid-step, idle); each restart costs a few seconds from source. */
const KILLS = 4;
const SOURCE = `
action e2e.inc:
in:
	value number
out:
	value number

workflow e2e.flow:
in:
	value number
out:
	value number
	parts array
wfomap:
	<value>
	<parts>
do:
	call e2e.inc:
		value = a.value
	into:
		<value>
	eval:
		parts = array()
	map e2e.inc using array(v.value, v.value + 100):
		value = e._v
	collect:
		parts ,= o.value
	call e2e.inc:
		<value>
	into:
		<value>
`;

let scheduler: DroverProcess;

beforeAll(async () => {
  for (const unit of loadJcl([{ fileName: 'e2e.wf', text: SOURCE }], { stored: { lookup: () => null }, types: createTypeChecker({}) })) {
    await drover.ns.store.saveWorkflowUnit({ name: unit.name, kind: unit.kind, source: unit.source, unit: unit.unit, compiled: unit.compiled });
  }
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
  it(`finishes ${COUNT} workflows (call, map over two, call), each step once, while the scheduler is killed over and over`, async () => {
    const ids = (await drover.ns.store.insertMany(Array.from({ length: COUNT }, (_, i) => ({ funcname: 'e2e.flow', arg: { value: i * 1000 } })))).map((r) => r.id);
    let kills = 0;
    const deadline = Date.now() + 180_000;
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
      const a = i * 1000;
      expect(job, `workflow ${i}`).toMatchObject({ state: 'completed', result: { value: a + 2, parts: [a + 2, a + 102] } });
    }
    // One child per call and per mapped element, with that step's arguments: no step's effects
    // appeared twice, and none is missing.
    const { rows: children } = await drover.ns.pool.query<{ parent_id: string; arg: { value: number } }>(
      'SELECT parent_id::text, arg FROM finished_jobs WHERE parent_id = ANY($1::bigint[]) UNION ALL SELECT parent_id::text, arg FROM jobs WHERE parent_id = ANY($1::bigint[])',
      [ids],
    );
    expect(children).toHaveLength(COUNT * 4);
    for (const [i, id] of ids.entries()) {
      const a = i * 1000;
      const values = children.filter((c) => c.parent_id === id).map((c) => c.arg.value).sort((x, y) => x - y);
      expect(values, `children of workflow ${i}`).toEqual([a, a + 1, a + 1, a + 101]);
    }
    // Every run's log starts once and ends with its completion.
    const { rows: logs } = await drover.ns.pool.query<{ job_id: string; kinds: string[]; last: { result?: string } }>(
      "SELECT job_id::text, array_agg(kind ORDER BY step) AS kinds, (array_agg(detail ORDER BY step DESC))[1] AS last FROM workflow_steps WHERE job_id = ANY($1::bigint[]) GROUP BY job_id",
      [ids],
    );
    expect(logs).toHaveLength(COUNT);
    for (const log of logs) {
      expect(log.kinds.filter((k) => k === 'start')).toEqual(['start']);
      expect(log.last.result).toBe('completed');
    }
    // The worker was never killed, so no child ran twice.
    const starts = startsById(drover.runs().filter((r) => r.funcname === 'e2e.inc'));
    expect(starts.size).toBe(COUNT * 4);
    expect([...starts.values()].every((n) => n === 1)).toBe(true);
    const { rows: runs } = await drover.ns.pool.query('SELECT 1 FROM workflow_runs');
    expect(runs).toHaveLength(0);
  }, 240_000);
});
