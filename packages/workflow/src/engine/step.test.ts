import { describe, expect, it } from 'vitest';
import type { WorkflowRun, WorkflowWakeup } from '@drover/core';
import { wakeAtOf, wakesFor } from './step.js';

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
    const eventWake: WorkflowWakeup = { id: '1', kind: 'event', childId: null, payload: { event } };
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
