import { describe, expect, it } from 'vitest';
import { ManualClock, type WorkflowEnd, type WorkflowRun, type WorkflowStepTx, type WorkflowWakeup } from '@drover/core';
import type { Machine } from '../ports.js';
import { runStep, wakeAtOf, wakesFor } from './step.js';

const NOW = new Date('2030-01-01T00:00:00Z');

function run(patch: Partial<WorkflowRun>): WorkflowRun {
  return { jobId: '1', unitId: '1', depth: 0, parentJobId: null, state: { pc: 1 }, waiting: null, wakeAt: null, steps: 1, grabToken: '9', arg: {}, ...patch };
}

function child(id: string, childId: string, payload: WorkflowWakeup['payload']): WorkflowWakeup {
  return { id, kind: 'child', childId, payload };
}

describe('wakesFor', () => {
  it('starts a run that has no state yet', () => {
    expect(wakesFor(run({ state: null }), [], NOW)).toEqual([{ kind: 'start' }]);
  });

  it('hands the outcomes of awaited children over in one wake, and drops the others', () => {
    const waiting = { kind: 'children', jobIds: ['10', '11'] };
    const wakes = wakesFor(run({ waiting }), [
      child('1', '10', { succeeded: true, result: 5 }),
      child('2', '99', { succeeded: true, result: 'not awaited' }),
      child('3', '11', { succeeded: false, error: 'cancelled' }),
      child('4', '10', { succeeded: true, result: 'a duplicate' }),
    ], NOW);
    expect(wakes).toEqual([{ kind: 'children', outcomes: [{ jobId: '10', succeeded: true, result: 5 }, { jobId: '11', succeeded: false, error: 'cancelled' }] }]);
  });

  it('wakes the timer only once its time has come and nothing else woke the run', () => {
    const waiting = { kind: 'sleep', until: NOW.toISOString() };
    expect(wakesFor(run({ waiting, wakeAt: new Date(NOW.getTime() + 1) }), [], NOW)).toEqual([]);
    expect(wakesFor(run({ waiting, wakeAt: NOW }), [], NOW)).toEqual([{ kind: 'timer' }]);
    expect(wakesFor(run({ waiting, wakeAt: NOW }), [child('1', '5', { succeeded: true })], NOW)).toEqual([{ kind: 'timer' }]);
  });

  it('passes events and granted locks on only while the run waits for them', () => {
    const event = { name: 'e', eventId: '1', when: NOW.toISOString(), data: {} };
    const eventWake: WorkflowWakeup = { id: '1', kind: 'event', childId: null, payload: event };
    const lockWake: WorkflowWakeup = { id: '2', kind: 'lock', childId: null, payload: { type: 't', value: 'v' } };
    expect(wakesFor(run({ waiting: { kind: 'event', names: ['e'], until: null } }), [eventWake, lockWake], NOW)).toEqual([{ kind: 'event', event }]);
    expect(wakesFor(run({ waiting: { kind: 'lock', type: 't', value: 'v', until: null } }), [eventWake, lockWake], NOW)).toEqual([{ kind: 'lock-granted', type: 't', value: 'v' }]);
  });
});

describe('wakeAtOf', () => {
  it('is the sleep end or the wait timeout, and none for children', () => {
    expect(wakeAtOf({ kind: 'sleep', until: '2030-01-01T00:01:00.000Z' })).toEqual(new Date('2030-01-01T00:01:00.000Z'));
    expect(wakeAtOf({ kind: 'event', names: ['x'], until: null })).toBeNull();
    expect(wakeAtOf({ kind: 'children', jobIds: ['1'] })).toBeNull();
  });
});

/** The step transaction's calls, recorded in memory (the port is ours; PostgreSQL's behaviour is in the integration tests). */
function recordingTx(children: string[] = []): WorkflowStepTx & { calls: string[]; ends: WorkflowEnd[] } {
  const calls: string[] = [];
  const ends: WorkflowEnd[] = [];
  return {
    calls,
    ends,
    runtime: recordingRuntime(calls),
    ancestors: async () => [],
    program: async (unitId) => ({ unitId, name: 'wf', version: 1, compiled: [] }),
    insertChild: async () => {
      calls.push('insertChild');
      return '100';
    },
    cancelJobs: async (ids) => {
      calls.push(`cancel ${ids.join(',')}`);
      return [...ids];
    },
    liveChildren: async () => children,
    saveRun: async () => {
      calls.push('saveRun');
    },
    logStep: async (_id, kind) => {
      calls.push(`log ${kind}`);
    },
    finishRun: async (_id, _token, end) => {
      ends.push(end);
      calls.push(`finish ${end.kind}`);
      return true;
    },
    deleteRun: async () => {
      calls.push('deleteRun');
    },
  };
}

function machineThat(advance: Machine['advance']): Machine {
  return { advance };
}

const deps = (machine: Machine) => ({ machine, clock: new ManualClock(NOW) });

describe('runStep', () => {
  it('fails the workflow with a fatal error when the machine has a bug, cancelling its children', async () => {
    const tx = recordingTx(['7']);
    const outcome = await runStep(deps(machineThat(async () => { throw new TypeError('x is undefined'); })), tx, run({ state: null }), []);
    expect(outcome).toBe('failed');
    expect(tx.calls).toEqual(['log start', 'cancel 7', 'releaseAll', 'cancelEventWait', 'unsubscribeAll', 'finish failed']);
    expect(JSON.parse((tx.ends[0] as { error: string }).error)).toEqual({ class: 'fatal', msg: 'the step machine failed: x is undefined' });
  });

  it('rolls the step back (throws) on a database error inside the machine', async () => {
    const tx = recordingTx();
    const dbError = Object.assign(new Error('could not serialize access'), { code: '40001' });
    await expect(runStep(deps(machineThat(async () => { throw dbError; })), tx, run({ state: null }), [])).rejects.toBe(dbError);
    expect(tx.calls).toEqual([]);
  });

  it('cancels the children and deletes the run of a cancelled workflow job, without asking the machine', async () => {
    const tx = recordingTx(['7', '8']);
    const outcome = await runStep(deps(machineThat(async () => { throw new Error('not asked'); })), tx, run({}), [{ id: '1', kind: 'cancel', childId: null, payload: null }]);
    expect(outcome).toBe('cancelled');
    expect(tx.calls).toEqual(['cancel 7,8', 'releaseAll', 'cancelEventWait', 'unsubscribeAll', 'log cancelled', 'deleteRun']);
  });

  it('saves the state and the wake time of a workflow that goes on waiting', async () => {
    const tx = recordingTx();
    const outcome = await runStep(deps(machineThat(async () => ({ kind: 'waiting', state: { pc: 2 }, waiting: { kind: 'sleep', until: NOW.toISOString() }, steps: 2 }))), tx, run({ state: null }), []);
    expect(outcome).toBe('waiting');
    expect(tx.calls).toEqual(['log start', 'saveRun']);
  });
});

/** Locks and events as the step calls them at a run's end (their SQL is tested in the store). */
function recordingRuntime(calls: string[]): WorkflowStepTx['runtime'] {
  const record = (what: string) => async () => {
    calls.push(what);
    return true as never;
  };
  return {
    lock: record('lock'),
    unlock: record('unlock'),
    releaseAll: async () => {
      calls.push('releaseAll');
      return 0;
    },
    cancelLockWait: record('cancelLockWait'),
    checkIfLockExists: async () => null,
    subscribe: record('subscribe'),
    unsubscribe: record('unsubscribe'),
    unsubscribeAll: async () => {
      calls.push('unsubscribeAll');
    },
    raiseWorkflowEvent: record('raiseWorkflowEvent'),
    takeEvent: async () => null,
    cancelEventWait: async () => {
      calls.push('cancelEventWait');
      return false;
    },
  };
}
