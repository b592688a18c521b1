/**
 * The workflow engine against real PostgreSQL and RabbitMQ, with a test-only list machine in place
 * of the real step machine: workflow jobs are dispatched by the relay like any job, their calls
 * are child jobs served by a real worker, and each step commits whole, once, in one engine.
 */
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { ManualClock } from '@drover/core';
import { waitFor } from '@drover/testing';
import { createListMachine } from './list-machine.js';
import { useEngineHarness } from './harness.js';

const h = useEngineHarness();
const { ns } = h;

/** A worker function that doubles `arg.value`. */
const double = { handler: async (job: { arg: unknown }) => (job.arg as { value: number }).value * 2, retryDelayMs: 0 };

describe('workflow engine', () => {
  it('runs a workflow whose call is served by a real worker, and completes it with the child result', async () => {
    await h.saveWorkflow('wf.one', [{ call: 'wf.double' }]);
    await h.startRelay();
    await h.startWorker({ functions: { 'wf.double': double } });
    const engine = await h.startEngine(createListMachine());
    const { id } = await ns.store.insert({ funcname: 'wf.one', arg: { value: 21 } });
    const job = await waitFor(h.finished(id), { what: 'the workflow to finish' });
    expect(job).toMatchObject({ state: 'completed', result: { value: 42 } });
    const [child] = await h.children(id);
    expect(await ns.store.getJob(child!)).toMatchObject({ funcname: 'wf.double', state: 'completed', result: 42, arg: { value: 21 } });
    expect((await h.stepLog(id)).map((s) => s.kind)).toEqual(['start', 'children']);
    expect(engine.stats).toMatchObject({ started: 1, completed: 1 });
    // The run is gone with its job.
    const { rows } = await ns.pool.query('SELECT 1 FROM workflow_runs WHERE job_id = $1', [id]);
    expect(rows).toHaveLength(0);
  });

  it('delivers the result of a child whose function keeps no exit status (keepForMs 0)', async () => {
    await h.saveWorkflow('wf.forget', [{ call: 'wf.double0' }, { call: 'wf.double0' }]);
    await h.startRelay();
    await h.startWorker({ functions: { 'wf.double0': { ...double, keepForMs: 0 } } });
    await h.startEngine(createListMachine());
    const { id } = await ns.store.insert({ funcname: 'wf.forget', arg: { value: 5 } });
    const job = await waitFor(h.finished(id), { what: 'the workflow to finish' });
    expect(job).toMatchObject({ state: 'completed', result: { value: 20 } });
    // The children left no exit status: only the wake-ups carried their results.
    expect(await h.children(id)).toEqual([]);
  });

  it('fails a workflow whose child fails for good, with the child error', async () => {
    await h.saveWorkflow('wf.childfails', [{ call: 'wf.broken' }]);
    await h.startRelay();
    await h.startWorker({ functions: { 'wf.broken': { handler: () => { throw new Error('no way'); }, maxRetries: 0 } } });
    await h.startEngine(createListMachine());
    const { id } = await ns.store.insert({ funcname: 'wf.childfails', arg: { value: 1 } });
    const job = await waitFor(h.finished(id), { what: 'the workflow to fail' });
    expect(job.state).toBe('failed');
    expect(JSON.parse(job.failureLog[0]!.error)).toMatchObject({ class: 'childerror' });
    expect(job.failureLog[0]!.error).toContain('no way');
  });

  it('runs each step once with two engines on one namespace: one log row per step, no child twice', async () => {
    const count = 20;
    await h.saveWorkflow('wf.three', [{ call: 'wf.double' }, { call: 'wf.double' }, { call: 'wf.double' }]);
    await h.startRelay();
    await h.startWorker({ functions: { 'wf.double': { ...double, slots: 8 } } });
    const a = await h.startEngine(createListMachine());
    const b = await h.startEngine(createListMachine());
    const ids = (await ns.store.insertMany(Array.from({ length: count }, (_, i) => ({ funcname: 'wf.three', arg: { value: i } })))).map((r) => r.id);
    for (const [i, id] of ids.entries()) {
      const job = await waitFor(h.finished(id), { what: `workflow ${i} to finish`, timeoutMs: 30_000 });
      expect(job).toMatchObject({ state: 'completed', result: { value: i * 8 } });
    }
    for (const id of ids) {
      expect(await h.children(id)).toHaveLength(3);
      expect((await h.stepLog(id)).map((s) => s.kind)).toEqual(['start', 'children', 'children', 'children']);
    }
    // Both engines took part (a witness that the test exercised two, not one).
    expect(a.stats.steps + b.stats.steps).toBe(count * 4);
    expect(a.stats.steps).toBeGreaterThan(0);
    expect(b.stats.steps).toBeGreaterThan(0);
  });

  it('wakes a sleeping workflow when the injected clock reaches its time, not before', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const store = ns.createStore({ clock });
    await h.saveWorkflow('wf.sleepy', [{ sleep: 60_000 }]);
    const engine = await h.startEngine(createListMachine(), { store, clock });
    const id = await h.startOn(store, 'wf.sleepy', { value: 'rested' });
    const job = await h.wakesExactlyAt(engine, store, clock, id, Date.UTC(2030, 0, 1, 0, 1));
    expect(job).toMatchObject({ state: 'completed', result: { value: 'rested' } });
    expect((await h.stepLog(id)).map((s) => s.kind)).toEqual(['start', 'timer']);
  });

  it('cancels the children of a cancelled workflow and ends its run', async () => {
    await h.saveWorkflow('wf.waits', [{ call: 'wf.nobody' }]);
    await h.startRelay();
    const engine = await h.startEngine(createListMachine());
    const { id } = await ns.store.insert({ funcname: 'wf.waits', arg: { value: 1 } });
    const [child] = await waitFor(async () => {
      const c = await h.children(id);
      return c.length > 0 ? c : null;
    }, { what: 'the child job' });
    expect(await ns.store.cancel(id)).toBe(true);
    await waitFor(async () => (await ns.store.getJob(child!))?.state === 'cancelled', { what: 'the child to be cancelled' });
    await waitFor(async () => (await ns.pool.query('SELECT 1 FROM workflow_runs WHERE job_id = $1', [id])).rows.length === 0, { what: 'the run to end' });
    expect(engine.stats.cancelled).toBe(1);
    expect((await h.stepLog(id)).map((s) => s.kind)).toEqual(['start', 'cancelled']);
  });

  it('rolls a step back whole when its connection dies mid-step: no child left behind, the step redone once', async () => {
    await h.saveWorkflow('wf.crash', [{ call: 'wf.double' }, { call: 'wf.double' }]);
    await h.startRelay();
    await h.startWorker({ functions: { 'wf.double': double } });
    const killer = new pg.Pool({ connectionString: inject('droverServices').databaseUrl, max: 1 });
    let crashed: string | null = null;
    let secondSteps = 0;
    const machine = createListMachine({
      onAdvance: (wake, _ctx, state) => {
        if (wake.kind === 'children' && state?.pc === 0) secondSteps++;
      },
      afterCreateChild: async (childId) => {
        if (crashed !== null || secondSteps === 0) return;
        crashed = childId;
        // The step's own session: the one idle in a transaction that just inserted this child.
        const { rows } = await killer.query<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE state = 'idle in transaction' AND query LIKE '%INSERT INTO jobs (funcname, arg, state, priority, run_after, max_retries, created_at, parent_id)%'`,
        );
        expect(rows[0]!.n).toBe(1);
      },
    });
    try {
      const engine = await h.startEngine(machine, { errorBackoffMs: 50 });
      const { id } = await ns.store.insert({ funcname: 'wf.crash', arg: { value: 3 } });
      const job = await waitFor(h.finished(id), { what: 'the workflow to finish', timeoutMs: 20_000 });
      expect(job).toMatchObject({ state: 'completed', result: { value: 12 } });
      expect(crashed).not.toBeNull();
      // The child made by the step that died never existed; the redone step made one, once.
      expect(await ns.store.getJob(crashed!)).toBeNull();
      expect(await h.children(id)).toHaveLength(2);
      expect(secondSteps).toBe(2);
      expect(engine.stats.errors).toBe(1);
      expect((await h.stepLog(id)).map((s) => s.kind)).toEqual(['start', 'children', 'children']);
    } finally {
      await killer.end();
    }
  });

  it('starts a retried workflow again from the start', async () => {
    await h.saveWorkflow('wf.retry', [{ call: 'wf.flaky' }]);
    await h.startRelay();
    let calls = 0;
    await h.startWorker({ functions: { 'wf.flaky': { handler: () => (++calls === 1 ? Promise.reject(new Error('first')) : 'second'), maxRetries: 0 } } });
    await h.startEngine(createListMachine());
    const { id } = await ns.store.insert({ funcname: 'wf.retry', arg: { value: 0 } });
    expect((await waitFor(h.finished(id), { what: 'the workflow to fail' })).state).toBe('failed');
    await ns.store.retry(id);
    const job = await waitFor(h.finished(id), { what: 'the retried workflow to finish' });
    expect(job).toMatchObject({ state: 'completed', result: { value: 'second' } });
    expect(await h.children(id)).toHaveLength(2);
    expect((await h.stepLog(id)).map((s) => s.kind)).toEqual(['start', 'children', 'start', 'children']);
  });

  it('stops within its bound while a step hangs; the workflow is not lost and another engine finishes it', async () => {
    await h.saveWorkflow('wf.hang', [{ call: 'wf.double' }]);
    await h.startRelay();
    let release: () => void = () => undefined;
    const inner = createListMachine();
    // A machine whose first advance waits until released.
    const stuck = {
      calls: 0,
      advance: async (...args: Parameters<typeof inner.advance>) => {
        if (++stuck.calls === 1) await new Promise<void>((resolve) => (release = resolve));
        return inner.advance(...args);
      },
    };
    const engine = await h.startEngine(stuck, { stopTimeoutMs: 300 });
    const { id } = await ns.store.insert({ funcname: 'wf.hang', arg: { value: 4 } });
    await waitFor(() => stuck.calls === 1, { what: 'the start step to hang' });
    const began = Date.now();
    await engine.stop();
    expect(Date.now() - began).toBeLessThan(2_000);
    release();
    await h.startWorker({ functions: { 'wf.double': double } });
    await h.startEngine(createListMachine());
    const job = await waitFor(h.finished(id), { what: 'the workflow to finish' });
    expect(job).toMatchObject({ state: 'completed', result: { value: 8 } });
    expect(await h.children(id)).toHaveLength(1);
  });
});
