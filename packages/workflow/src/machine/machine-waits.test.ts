import { describe, expect, it } from 'vitest';
import type { WorkflowUnit } from '../ast.js';
import type { Advance } from '../ports.js';
import {
  evalS, gotoS, label, lit, lockS, lockSpec, magic, raiseError, raiseEvent, ref, set, sleepS, subscribe, tryS, unlockS, unsubscribe, waitForEvent, waitForLock, workflow,
} from '../test-support/ast-builders.js';
import { drive, StuckError, type DriveOptions } from './test-support/driver.js';
import { compile, testMachine } from './test-support/fixtures.js';
import { World } from './test-support/memory-host.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

async function run(unit: WorkflowUnit, world = new World(), extra: Partial<DriveOptions> = {}) {
  const waits: Advance[] = [];
  const result = await drive({ machine: testMachine, world, program: compile(unit), onWait: (a) => waits.push(a), ...extra });
  return { ...result, world, waitAdvances: waits };
}

describe('step machine: sleep', () => {
  it('waits until now + the duration (seconds or text), then goes on', async () => {
    const { end, waits, world } = await run(workflow('f', [sleepS(lit(90)), sleepS(lit('1 hour 5 minutes')), evalS(set('woke', true))], { wfomap: [magic()] }));
    expect(waits).toEqual([
      { kind: 'sleep', until: new Date(T0 + 90_000).toISOString() },
      { kind: 'sleep', until: new Date(T0 + 90_000 + 3_900_000).toISOString() },
    ]);
    expect(world.clock).toBe(T0 + 3_990_000);
    expect(end).toMatchObject({ kind: 'completed', output: { woke: true } });
  });

  it('a value that is not a duration is a catchable error', async () => {
    const { end } = await run(workflow('f', [tryS([sleepS(lit('a while'))], [evalS(set('err', ref('e._error.msg')))])], { wfomap: [magic()] }));
    expect(end).toMatchObject({ kind: 'completed', output: { err: expect.stringMatching(/^sleep: duration "a while" /) as unknown } });
  });
});

describe('step machine: events', () => {
  it('subscribe, raise_event and unsubscribe go to the host', async () => {
    const { world } = await run(workflow('f', [
      subscribe(set('name', 'orders'), set('mask', { shop: 1 })),
      raiseEvent(set('name', 'ping'), set('event', { n: 1 })),
      subscribe(set('name', 'gone')),
      unsubscribe(set('name', 'gone')),
    ]));
    expect([...world.subscriptions]).toEqual([['orders', { shop: 1 }]]);
    expect(world.raised).toEqual([{ name: 'ping', data: { n: 1 } }]);
  });

  it('subscribe without a name is an error naming it', async () => {
    const { end } = await run(workflow('f', [subscribe(set('mask', {}))]));
    expect(end).toMatchObject({ kind: 'failed', error: { class: 'normal', msg: 'subscribe: name must be a non-empty string' } });
  });

  it('wait_for_event without timeout waits for one of the names; into: sees o.event', async () => {
    const world = new World();
    world.queueEvent('other', { x: 0 });
    world.queueEvent('orders', { id: 7 });
    const { end, waits } = await run(
      workflow('f', [waitForEvent([set('events', ['orders', 'refunds'])], [set('got', ref('o.event'))])], { wfomap: [magic()] }),
      world,
    );
    expect(waits).toEqual([{ kind: 'event', names: ['orders', 'refunds'], until: null }]);
    expect(end).toMatchObject({ kind: 'completed', output: { got: { name: 'orders', event_id: '2', data: { id: 7 } } } });
    expect(world.queue.map((e) => e.name)).toEqual(['other']);
  });

  it('wait_for_event with a timeout that passes gives the pseudo event "timeout" (JobCenter do_timeout)', async () => {
    const { end, waits } = await run(
      workflow('f', [waitForEvent([set('events', 'orders'), set('timeout', 30)], [set('got', ref('o.event.name')), set('data', ref('o.event.data'))])], { wfomap: [magic()] }),
    );
    expect(waits).toEqual([{ kind: 'event', names: ['orders'], until: new Date(T0 + 30_000).toISOString() }]);
    expect(end).toMatchObject({ kind: 'completed', output: { got: 'timeout', data: null } });
  });

  it('an event before the timeout wins over it', async () => {
    const world = new World();
    world.queueEvent('orders', { id: 1 });
    const { end } = await run(workflow('f', [waitForEvent([set('events', 'orders'), set('timeout', '10 seconds')], [set('got', ref('o.event.name'))])], { wfomap: [magic()] }), world);
    expect(end).toMatchObject({ kind: 'completed', output: { got: 'orders' } });
  });

  it('a wait without timeout and without events never wakes (the driver reports it stuck)', async () => {
    await expect(run(workflow('f', [waitForEvent([set('events', 'never')])]))).rejects.toBeInstanceOf(StuckError);
  });

  it('bad events or timeout are errors', async () => {
    expect((await run(workflow('f', [waitForEvent([set('events', 5)])]))).end).toMatchObject({ kind: 'failed', error: { msg: expect.stringContaining('events must be') as unknown } });
    expect((await run(workflow('f', [waitForEvent([set('events', 'x'), set('timeout', 'later')])]))).end).toMatchObject({ kind: 'failed', error: { msg: expect.stringContaining('timeout') as unknown } });
  });
});

describe('step machine: locks', () => {
  it('takes non-manual locks at the start in order and releases every lock at the end', async () => {
    const { world, end } = await run(workflow('f', [lockS('m', lit('dyn'))], { locks: [lockSpec('a', '1'), lockSpec('m', '_', { manual: true }), lockSpec('b', '2')] }));
    expect(end.kind).toBe('completed');
    expect(world.log).toEqual(['job-root lock a 1', 'job-root lock b 2', 'job-root lock m dyn', 'job-root unlock a 1', 'job-root unlock b 2', 'job-root unlock m dyn']);
    expect(world.locks.size).toBe(0);
  });

  it('waits for a held lock and goes on when it is granted', async () => {
    const world = new World();
    world.locks.set('a\u00001', 'someone-else');
    const { end, waits } = await run(workflow('f', [evalS(set('ran', true))], { locks: [lockSpec('a', '1')], wfomap: [magic()] }), world, {
      onLockWait: (w, wd) => {
        expect(wd.release(w.type, w.value)).toBe('job-root');
        return { kind: 'lock-granted', type: w.type, value: w.value };
      },
    });
    expect(waits).toEqual([{ kind: 'lock', type: 'a', value: '1', until: null }]);
    expect(end).toMatchObject({ kind: 'completed', output: { ran: true } });
  });

  it('a deadlock is fatal, and try does not catch it', async () => {
    const world = new World();
    world.lockScript = () => ({ kind: 'deadlock', cycle: ['job-root', 'job-9', 'job-root'] });
    const { end } = await run(workflow('f', [tryS([lockS('m', lit('x'))], [evalS(set('caught', true))])], { locks: [lockSpec('m', '_', { manual: true })] }), world);
    expect(end).toMatchObject({ kind: 'failed', error: { class: 'fatal', msg: 'deadlock on locktype m lockvalue x: job-root -> job-9 -> job-root' } });
    const atStart = await run(workflow('f', [], { locks: [lockSpec('a', '1')] }), world);
    expect(atStart.end).toMatchObject({ kind: 'failed', error: { class: 'fatal' } });
  });

  it('wait_for_lock with wait = no fails at once on a busy lock; unlock releases', async () => {
    const world = new World();
    world.locks.set('m\u0000x', 'someone-else');
    const { end } = await run(
      workflow('f', [tryS([waitForLock('m', set('value', 'x'), set('wait', 'no'))], [evalS(set('err', ref('e._error.msg')))]), lockS('m', lit('y')), unlockS('m', lit('y')), raiseError(lit('stop'))], {
        locks: [lockSpec('m', '_', { manual: true })], wfomap: [magic()],
      }),
      world,
    );
    expect(end).toMatchObject({ kind: 'failed', error: { msg: 'stop' } });
    expect(world.log.filter((l) => l.includes(' y'))).toEqual(['job-root lock m y', 'job-root unlock m y']);
    const caught = await run(workflow('f', [tryS([waitForLock('m', set('value', 'x'), set('wait', 'no'))], [evalS(set('err', ref('e._error.msg')))])], { locks: [lockSpec('m', '_', { manual: true })], wfomap: [magic()] }), world);
    expect(caught.end).toMatchObject({ kind: 'completed', output: { err: 'failed to get locktype m lockvalue x (held by someone-else)' } });
  });

  it('wait_for_lock with a wait time that passes raises class lock', async () => {
    const world = new World();
    world.locks.set('m\u0000x', 'someone-else');
    const { end, waits } = await run(workflow('f', [waitForLock('m', set('value', 'x'), set('wait', '5 seconds'))], { locks: [lockSpec('m', '_', { manual: true })] }), world);
    expect(waits).toEqual([{ kind: 'lock', type: 'm', value: 'x', until: new Date(T0 + 5000).toISOString() }]);
    expect(end).toMatchObject({ kind: 'failed', error: { class: 'lock', msg: 'locktype m lockvalue x timeout for job job-root' } });
  });

  it('a failed run releases the locks it holds', async () => {
    const { world, end } = await run(workflow('f', [raiseError(lit('x'))], { locks: [lockSpec('a', '1')] }));
    expect(end.kind).toBe('failed');
    expect(world.log).toEqual(['job-root lock a 1', 'job-root unlock a 1']);
  });
});

describe('step machine: timers', () => {
  it('a timer before the deadline changes nothing; at the deadline the run goes on', async () => {
    const program = compile(workflow('f', [sleepS(lit(60)), raiseError(lit('woke'))]));
    const world = new World();
    const host = world.hostFor('j');
    const ctx = { jobId: 'j', depth: 0, args: {} };
    const first = await testMachine.advance(program, null, { kind: 'start' }, ctx, host);
    if (first.kind !== 'waiting') throw new Error('expected a wait');
    world.clock = T0 + 59_999;
    expect(await testMachine.advance(program, first.state, { kind: 'timer' }, ctx, host)).toEqual(first);
    world.clock = T0 + 60_000;
    expect(await testMachine.advance(program, first.state, { kind: 'timer' }, ctx, host)).toMatchObject({ kind: 'failed', error: { msg: 'woke' } });
  });
});

describe('step machine: max_steps across waits', () => {
  it('the step count persists in the state, so a loop of sleeps still ends at max_steps', async () => {
    const { end, waits } = await run(workflow('f', [label('l'), sleepS(lit(1)), gotoS('l')], { config: [set('max_steps', 9)] }));
    expect(end).toEqual({ kind: 'failed', error: { class: 'fatal', msg: 'max_steps (9) exceeded' }, steps: 9 });
    // sleep, goto, sleep, … : the ninth step is the fifth sleep; the tenth is refused.
    expect(waits).toHaveLength(5);
  });
});
