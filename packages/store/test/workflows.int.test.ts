/**
 * The workflow role (`WorkflowStore`), on PostgreSQL and (in the pglite project) on the embedded
 * database: stored units and their versions, a run's start fenced by the grab token, children
 * whose every way of finishing leaves its outcome for the parent's run in the same statement
 * (and jobs without a parent leave nothing), the run's lease that expiry never takes back, and bad
 * unit input refused by field with nothing stored.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ManualClock, ValidationError, type Json, type NewWorkflowUnit } from '@drover/core';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();
const LEASE = { leaseMs: 60_000 };
const program: Json = [{ call: 'x' }];

/** The starts here always find a version: reaching this is a failure of the test. */
const noVersion = (): Promise<never> => Promise.reject(new Error('no version of the workflow fits'));

async function wakeups(): Promise<{ run_id: string; kind: string; child_id: string | null; payload: Json }[]> {
  const { rows } = await ns.pool.query<{ run_id: string; kind: string; child_id: string | null; payload: Json }>(
    'SELECT run_id::text, kind, child_id::text, payload FROM workflow_wakeups ORDER BY id',
  );
  return rows;
}

/** Inserts, claims and starts a workflow job; inside the start, creates `children` child jobs. */
async function startedWorkflow(name: string, children: number): Promise<{ id: string; childIds: string[] }> {
  await ns.store.saveWorkflowUnit({ name, kind: 'workflow', source: 'src', unit: {}, compiled: program });
  const { id } = await ns.store.insert({ funcname: name, arg: { value: 1 } });
  const [claimed] = await ns.store.claim([id], LEASE);
  const childIds = await ns.store.startWorkflowRun({ jobId: id, grabToken: claimed!.grabToken, name }, async (tx, run) => {
    expect(run).toMatchObject({ jobId: id, depth: 0, parentJobId: null, state: null, arg: { value: 1 } });
    const made: string[] = [];
    for (let i = 0; i < children; i++) made.push(await tx.insertChild(id, { funcname: 'wf.child', arg: { i } }));
    await tx.saveRun(id, { state: { pc: 1 }, waiting: { kind: 'children', jobIds: made }, wakeAt: null, steps: 1 });
    return made;
  }, noVersion);
  return { id, childIds: childIds! };
}

describe('workflow store', () => {
  it('stores each load of a name as its next version, and lists the newest of each workflow', async () => {
    const first = await ns.store.saveWorkflowUnit({ name: 'v.flow', kind: 'workflow', source: 'one', unit: {}, compiled: program });
    const second = await ns.store.saveWorkflowUnit({ name: 'v.flow', kind: 'workflow', source: 'two', unit: {}, compiled: [{ call: 'y' }] });
    await ns.store.saveWorkflowUnit({ name: 'v.action', kind: 'action', source: 'a', unit: {}, compiled: null });
    expect([first.version, second.version]).toEqual([1, 2]);
    expect((await ns.store.workflowUnits()).filter((u) => u.name.startsWith('v.'))).toEqual([{ id: second.id, name: 'v.flow', kind: 'workflow', version: 2 }]);
    expect(await ns.store.workflowProgram(first.id)).toEqual({ unitId: first.id, name: 'v.flow', version: 1, compiled: program });
  });

  it('starts a run only with the current grab token, and takes the job off lease expiry', async () => {
    const clock = new ManualClock();
    const store = ns.createStore({ clock });
    await store.saveWorkflowUnit({ name: 'fenced.flow', kind: 'workflow', source: 's', unit: {}, compiled: program });
    const { id } = await store.insert({ funcname: 'fenced.flow' });
    const [claimed] = await store.claim([id], { leaseMs: 1_000 });
    expect(await store.startWorkflowRun({ jobId: id, grabToken: String(BigInt(claimed!.grabToken) + 1000n), name: 'fenced.flow' }, async () => 'ran', noVersion)).toBeNull();
    expect(await store.startWorkflowRun({ jobId: id, grabToken: claimed!.grabToken, name: 'fenced.flow' }, async () => 'ran', noVersion)).toBe('ran');
    clock.advance(86_400_000);
    expect(await store.expireLeases()).toEqual([]);
    expect(await store.getJob(id)).toMatchObject({ state: 'running', grabbedUntil: null });
  });

  it('rolls a start back whole when its step throws: no run, no child', async () => {
    await ns.store.saveWorkflowUnit({ name: 'rollback.flow', kind: 'workflow', source: 's', unit: {}, compiled: program });
    const { id } = await ns.store.insert({ funcname: 'rollback.flow' });
    const [claimed] = await ns.store.claim([id], LEASE);
    let child = '';
    await expect(ns.store.startWorkflowRun({ jobId: id, grabToken: claimed!.grabToken, name: 'rollback.flow' }, async (tx) => {
      child = await tx.insertChild(id, { funcname: 'wf.child', arg: {} });
      throw new Error('the step died');
    }, noVersion)).rejects.toThrow('the step died');
    expect(await ns.store.getJob(child)).toBeNull();
    expect((await ns.pool.query('SELECT 1 FROM workflow_runs WHERE job_id = $1', [id])).rows).toHaveLength(0);
  });

  it('appends every child outcome for its parent run in the finishing statement; a job without a parent appends none', async () => {
    const { id, childIds: [done, failed, cancelled] } = await startedWorkflow('outcomes.flow', 3);
    const lone = (await ns.store.insert({ funcname: 'wf.child' })).id;
    const grabs = await ns.store.claim([done!, failed!, lone], LEASE);
    const grab = (jobId: string) => grabs.find((g) => g.id === jobId)!.grabToken;
    await ns.store.complete({ id: done!, grabToken: grab(done!), result: { ok: 1 }, keepForMs: 0 });
    await ns.store.complete({ id: lone, grabToken: grab(lone), result: 'alone' });
    await ns.store.fail({ id: failed!, grabToken: grab(failed!), error: 'broke', retryDelayMs: 0, permanent: true });
    await ns.store.cancel(cancelled!);
    expect(await wakeups()).toEqual([
      { run_id: id, kind: 'child', child_id: done, payload: { succeeded: true, result: { ok: 1 } } },
      { run_id: id, kind: 'child', child_id: failed, payload: { succeeded: false, error: 'broke' } },
      { run_id: id, kind: 'child', child_id: cancelled, payload: { succeeded: false, error: 'cancelled' } },
    ]);
    // The step takes them (and only a due run is stepped); the keepForMs 0 child left no row.
    expect(await ns.store.getJob(done!)).toBeNull();
    const stepped = await ns.store.stepWorkflowRun(async (tx, run, taken) => {
      await tx.deleteRun(run.jobId);
      return { run: run.jobId, kinds: taken.map((w) => w.childId) };
    });
    expect(stepped).toEqual({ stepped: true, value: { run: id, kinds: [done, failed, cancelled] } });
    expect(await ns.store.stepWorkflowRun(async () => 'nothing due')).toEqual({ stepped: false });
  });

  it('wakes a cancelled workflow job with a cancel wake-up, and a failed attempt of a child that will retry with none', async () => {
    const { id, childIds: [child] } = await startedWorkflow('cancel.flow', 1);
    const [claimed] = await ns.store.claim([child!], LEASE);
    await ns.store.fail({ id: child!, grabToken: claimed!.grabToken, error: 'again', retryDelayMs: 0 });
    expect((await wakeups()).filter((w) => w.run_id === id)).toEqual([]);
    expect(await ns.store.cancel(id)).toBe(true);
    expect((await wakeups()).filter((w) => w.run_id === id)).toEqual([{ run_id: id, kind: 'cancel', child_id: null, payload: null }]);
    const stepped = await ns.store.stepWorkflowRun(async (tx, run, taken) => {
      expect(run.grabToken).toBeNull();
      expect(await tx.liveChildren(run.jobId)).toEqual([child]);
      expect(await tx.cancelJobs([child!])).toEqual([child]);
      await tx.deleteRun(run.jobId);
      return taken.map((w) => w.kind);
    });
    expect(stepped).toEqual({ stepped: true, value: ['cancel'] });
    expect((await ns.store.getJob(child!))?.state).toBe('cancelled');
    expect(await ns.store.trimWorkflowWakeups()).toBe(0);
  });

  it('refuses any generated bad unit, naming the field, and stores nothing', async () => {
    const count = async () => (await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_units')).rows[0]!.n;
    const before = await count();
    const good: NewWorkflowUnit = { name: 'fuzz.flow', kind: 'workflow', source: 's', unit: {}, compiled: program };
    const badName = fc.string({ maxLength: 220 }).filter((s) => !/^[A-Za-z0-9_.:-]{1,200}$/.test(s));
    const badKind = fc.string({ maxLength: 12 }).filter((s) => !['workflow', 'action', 'procedure', 'interface'].includes(s));
    const badText = fc.constantFrom('\u0000', 'a\uD800b', 'x\u0000y');
    const cases = fc.oneof(
      badName.map((name) => ({ input: { ...good, name }, field: 'name' })),
      badKind.map((kind) => ({ input: { ...good, kind } as unknown as NewWorkflowUnit, field: 'kind' })),
      fc.constantFrom([''], [1], ['x'.repeat(201)], ['a', 'b\u0000']).map((tags) => ({ input: { ...good, tags } as unknown as NewWorkflowUnit, field: `tags[${tags.length - 1}]` })),
      fc.constant({ input: { ...good, compiled: null }, field: 'compiled' }),
      fc.constant({ input: { ...good, kind: 'action' as const }, field: 'compiled' }),
      badText.map((source) => ({ input: { ...good, source }, field: 'source' })),
      badText.map((s) => ({ input: { ...good, unit: { [s]: 1 } }, field: 'unit' })),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ input, field }) => {
        const err = await ns.store.saveWorkflowUnit(input).then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field.startsWith(field)).toBe(true);
      }),
      { numRuns: 200 },
    );
    expect(await count()).toBe(before);
  });
});
