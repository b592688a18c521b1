/**
 * Role: WorkflowStore, locks — acquire, busy, waiting and the grant order; inherited locks lent to
 * descendants and handed back; deadlocks of two and three jobs, and of a child waiting for its
 * parent's lock; a job's end releasing everything; timeouts; bad input. Runs on both adapters.
 * Races between connections are in workflow-locks-race.pg.int.test.ts.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { ValidationError, type WorkflowLockOptions } from '@drover/core';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();
const WAIT: WorkflowLockOptions = { inherit: false, wait: true };
const NO_WAIT: WorkflowLockOptions = { inherit: false, wait: false };

beforeEach(async () => {
  for (const table of ['workflow_locks', 'workflow_lock_waits', 'workflow_wakeups', 'jobs']) await ns.pool.query(`DELETE FROM ${table}`);
});

/** The 'lock' wakeups appended, oldest first. */
async function lockWakeups(): Promise<{ run_id: string; payload: unknown }[]> {
  const { rows } = await ns.pool.query<{ run_id: string; payload: unknown }>("SELECT run_id::text, payload FROM workflow_wakeups WHERE kind = 'lock' ORDER BY id");
  return rows;
}

async function waiters(): Promise<string[]> {
  const { rows } = await ns.pool.query<{ job_id: string }>('SELECT job_id::text FROM workflow_lock_waits ORDER BY since, seq');
  return rows.map((r) => r.job_id);
}

/** A live job with a parent: the parent waits for it, an edge of the wait graph. */
async function childOf(parent: string): Promise<string> {
  const { id } = await ns.store.insert({ funcname: 'wf.child', arg: {} });
  await ns.pool.query('UPDATE jobs SET parent_id = $1 WHERE id = $2', [parent, id]);
  return id;
}

describe('lock and unlock', () => {
  it('acquires a free lock, answers busy or waits when held, and grants to waiters oldest first', async () => {
    const w = ns.store.workflows;
    expect(await w.lock('1', 'account', 'a1', NO_WAIT)).toEqual({ kind: 'acquired' });
    expect(await w.lock('2', 'account', 'a1', NO_WAIT)).toEqual({ kind: 'busy', holder: '1' });
    expect(await waiters()).toEqual([]);
    expect(await w.lock('2', 'account', 'a1', WAIT)).toEqual({ kind: 'waiting', holder: '1' });
    expect(await w.lock('3', 'account', 'a1', WAIT)).toEqual({ kind: 'waiting', holder: '1' });
    // Another value of the same type is another lock.
    expect(await w.lock('4', 'account', 'a2', NO_WAIT)).toEqual({ kind: 'acquired' });
    expect(await w.checkIfLockExists('account', 'a1')).toMatchObject({ holder: '1', inherit: false, borrowers: [] });

    expect(await w.unlock('2', 'account', 'a1')).toBe(false);
    expect(await lockWakeups()).toEqual([]);
    expect(await w.unlock('1', 'account', 'a1')).toBe(true);
    expect(await w.checkIfLockExists('account', 'a1')).toMatchObject({ holder: '2' });
    expect(await lockWakeups()).toEqual([{ run_id: '2', payload: { type: 'account', value: 'a1' } }]);
    expect(await waiters()).toEqual(['3']);

    expect(await w.unlock('2', 'account', 'a1')).toBe(true);
    expect(await w.checkIfLockExists('account', 'a1')).toMatchObject({ holder: '3' });
    expect((await lockWakeups()).map((r) => r.run_id)).toEqual(['2', '3']);
    expect(await w.unlock('3', 'account', 'a1')).toBe(true);
    expect(await w.checkIfLockExists('account', 'a1')).toBeNull();
    expect(await lockWakeups()).toHaveLength(2);
  });

  it('answers acquired to a job asking again for a lock it holds, without a second entry', async () => {
    const w = ns.store.workflows;
    await w.lock('1', 't', 'v', NO_WAIT);
    expect(await w.lock('1', 't', 'v', WAIT)).toEqual({ kind: 'acquired' });
    expect(await waiters()).toEqual([]);
    expect(await w.unlock('1', 't', 'v')).toBe(true);
    expect(await w.checkIfLockExists('t', 'v')).toBeNull();
  });

  it('ends a wait on its timeout: the lock then goes to the next waiter, or is freed', async () => {
    const w = ns.store.workflows;
    await w.lock('1', 't', 'v', NO_WAIT);
    await w.lock('2', 't', 'v', { ...WAIT, until: new Date(Date.UTC(2030, 0, 1)) });
    const { rows } = await ns.pool.query<{ until: Date }>('SELECT until FROM workflow_lock_waits WHERE job_id = 2');
    expect(rows[0]!.until.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(await w.cancelLockWait('2')).toBe(true);
    expect(await w.cancelLockWait('2')).toBe(false);
    await w.unlock('1', 't', 'v');
    expect(await w.checkIfLockExists('t', 'v')).toBeNull();
    expect(await lockWakeups()).toEqual([]);
  });
});

describe('inherited locks', () => {
  it('lends an inherit lock to a descendant, then to a waiting sibling, then returns it to the holder', async () => {
    const w = ns.store.workflows;
    expect(await w.lock('10', 'doc', 'd', { inherit: true, wait: true })).toEqual({ kind: 'acquired' });
    const child = await childOf('10');
    const sibling = await childOf('10');
    expect(await w.lock(child, 'doc', 'd', { inherit: false, wait: true, parentJobIds: ['10'] })).toEqual({ kind: 'acquired' });
    expect(await w.checkIfLockExists('doc', 'd')).toMatchObject({ holder: '10', borrowers: [child] });
    // The sibling waits for the child (not a deadlock: the child does not wait for it); so does an outsider.
    expect(await w.lock(sibling, 'doc', 'd', { inherit: false, wait: true, parentJobIds: ['10'] })).toEqual({ kind: 'waiting', holder: '10' });
    expect(await w.lock('99', 'doc', 'd', WAIT)).toEqual({ kind: 'waiting', holder: '10' });

    // The child's release lends it on to the sibling (a descendant of the holder), not the older outsider's turn.
    expect(await w.unlock(child, 'doc', 'd')).toBe(true);
    expect(await w.checkIfLockExists('doc', 'd')).toMatchObject({ holder: '10', borrowers: [sibling] });
    expect(await lockWakeups()).toEqual([{ run_id: sibling, payload: { type: 'doc', value: 'd' } }]);
    // The sibling's end hands it back to the holder; the outsider still waits.
    expect(await w.releaseAll(sibling)).toBe(1);
    expect(await w.checkIfLockExists('doc', 'd')).toMatchObject({ holder: '10', borrowers: [] });
    expect(await waiters()).toEqual(['99']);
    expect(await w.unlock('10', 'doc', 'd')).toBe(true);
    expect(await w.checkIfLockExists('doc', 'd')).toMatchObject({ holder: '99', borrowers: [] });
  });

  it('lends down a chain of descendants, each return going back one step', async () => {
    const w = ns.store.workflows;
    await w.lock('20', 'doc', 'e', { inherit: true, wait: true });
    const child = await childOf('20');
    const grandchild = await childOf(child);
    expect(await w.lock(child, 'doc', 'e', { inherit: true, wait: true, parentJobIds: ['20'] })).toEqual({ kind: 'acquired' });
    expect(await w.lock(grandchild, 'doc', 'e', { inherit: false, wait: true, parentJobIds: [child, '20'] })).toEqual({ kind: 'acquired' });
    expect(await w.checkIfLockExists('doc', 'e')).toMatchObject({ borrowers: [child, grandchild] });
    await w.unlock(grandchild, 'doc', 'e');
    expect(await w.checkIfLockExists('doc', 'e')).toMatchObject({ holder: '20', borrowers: [child] });
  });

  it('gives a lent lock to the oldest waiter when its holder ends, borrowers or not', async () => {
    const w = ns.store.workflows;
    await w.lock('60', 'doc', 'g', { inherit: true, wait: true });
    const child = await childOf('60');
    await w.lock(child, 'doc', 'g', { inherit: false, wait: true, parentJobIds: ['60'] });
    expect(await w.lock('98', 'doc', 'g', WAIT)).toEqual({ kind: 'waiting', holder: '60' });
    // The holder ends (cancelled, say): its children go with it, and the lock with them.
    expect(await w.releaseAll('60')).toBe(1);
    expect(await w.checkIfLockExists('doc', 'g')).toMatchObject({ holder: '98', borrowers: [] });
    // The child's own end then finds nothing of it to release.
    expect(await w.releaseAll(child)).toBe(0);
    expect(await w.checkIfLockExists('doc', 'g')).toMatchObject({ holder: '98' });
  });

  it('does not lend a lock taken without inherit: a child waiting for it is a deadlock with its parent', async () => {
    const w = ns.store.workflows;
    await w.lock('30', 'doc', 'f', { inherit: false, wait: true });
    const child = await childOf('30');
    expect(await w.lock(child, 'doc', 'f', { inherit: false, wait: true, parentJobIds: ['30'] })).toEqual({ kind: 'deadlock', cycle: [child, '30'] });
    expect(await w.lock(child, 'doc', 'f', { inherit: false, wait: false, parentJobIds: ['30'] })).toEqual({ kind: 'busy', holder: '30' });
    expect(await waiters()).toEqual([]);
  });
});

describe('deadlocks', () => {
  it('refuses the wait that closes a cycle of two jobs, recording nothing for it', async () => {
    const w = ns.store.workflows;
    await w.lock('1', 'r', 'x', WAIT);
    await w.lock('2', 'r', 'y', WAIT);
    expect(await w.lock('1', 'r', 'y', WAIT)).toEqual({ kind: 'waiting', holder: '2' });
    expect(await w.lock('2', 'r', 'x', WAIT)).toEqual({ kind: 'deadlock', cycle: ['2', '1'] });
    expect(await waiters()).toEqual(['1']);
    // Once the cycle's other side is gone, the same wait is fine.
    await w.cancelLockWait('1');
    expect(await w.lock('2', 'r', 'x', WAIT)).toEqual({ kind: 'waiting', holder: '1' });
  });

  it('finds a cycle through three jobs', async () => {
    const w = ns.store.workflows;
    for (const [job, value] of [['1', 'x'], ['2', 'y'], ['3', 'z']] as const) await w.lock(job, 'r', value, WAIT);
    expect(await w.lock('1', 'r', 'y', WAIT)).toEqual({ kind: 'waiting', holder: '2' });
    expect(await w.lock('2', 'r', 'z', WAIT)).toEqual({ kind: 'waiting', holder: '3' });
    expect(await w.lock('3', 'r', 'x', WAIT)).toEqual({ kind: 'deadlock', cycle: ['3', '1', '2'] });
    expect(await waiters()).toEqual(['1', '2']);
  });

  it('follows parents waiting for their children: a cycle through a parent and its child', async () => {
    const w = ns.store.workflows;
    // 40 holds x and waits for its child, which waits for y; 50 holds y and now asks for x.
    await w.lock('40', 'r', 'x', WAIT);
    await w.lock('50', 'r', 'y', WAIT);
    const child = await childOf('40');
    expect(await w.lock(child, 'r', 'y', { ...WAIT, parentJobIds: ['40'] })).toEqual({ kind: 'waiting', holder: '50' });
    expect(await w.lock('50', 'r', 'x', WAIT)).toEqual({ kind: 'deadlock', cycle: ['50', '40', child] });
  });
});

describe('deadlock checks on a wide graph', () => {
  it('answer at once where the paths number in the millions: each edge is followed once', async () => {
    // 21 holders; each of the first 20 has two children waiting for the next one's lock: 2^20
    // paths from the first holder to the last, through only 61 jobs.
    const w = ns.store.workflows;
    const LAYERS = 20;
    const holder = (k: number): string => String(1000 + k);
    for (let k = 0; k <= LAYERS; k++) await w.lock(holder(k), 'layer', String(k), WAIT);
    for (let k = 0; k < LAYERS; k++) {
      for (let c = 0; c < 2; c++) {
        const child = await childOf(holder(k));
        expect(await w.lock(child, 'layer', String(k + 1), { ...WAIT, parentJobIds: [holder(k)] })).toMatchObject({ kind: 'waiting' });
      }
    }
    const started = Date.now();
    expect(await w.lock('5000', 'layer', '0', WAIT)).toEqual({ kind: 'waiting', holder: holder(0) });
    const answer = await w.lock(holder(LAYERS), 'layer', '0', WAIT);
    expect(answer.kind).toBe('deadlock');
    const cycle = answer.kind === 'deadlock' ? answer.cycle : [];
    expect(cycle).toHaveLength(1 + 2 * LAYERS);
    expect(cycle.slice(0, 2)).toEqual([holder(LAYERS), holder(0)]);
    // Enumerating paths would take minutes; both checks are a few small queries.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('releaseAll', () => {
  it("releases every lock of an ending job to its waiters, and ends the job's own wait", async () => {
    const w = ns.store.workflows;
    await w.lock('1', 'r', 'a', WAIT);
    await w.lock('1', 'r', 'b', WAIT);
    await w.lock('9', 'r', 'c', WAIT);
    await w.lock('1', 'r', 'c', WAIT);
    await w.lock('2', 'r', 'a', WAIT);
    expect(await w.releaseAll('1')).toBe(2);
    expect(await w.checkIfLockExists('r', 'a')).toMatchObject({ holder: '2' });
    expect(await w.checkIfLockExists('r', 'b')).toBeNull();
    expect(await waiters()).toEqual([]);
    await w.unlock('9', 'r', 'c');
    expect(await w.checkIfLockExists('r', 'c')).toBeNull();
    expect((await lockWakeups()).map((r) => r.run_id)).toEqual(['2']);
  });
});

describe('bad input', () => {
  it('refuses a bad job id, type, value or option, naming it, and changes nothing', async () => {
    const w = ns.store.workflows;
    await w.lock('1', 't', 'held', WAIT);
    const snapshot = async (): Promise<unknown> => (await ns.pool.query('SELECT (SELECT count(*) FROM workflow_locks)::int AS l, (SELECT count(*) FROM workflow_lock_waits)::int AS w')).rows;
    const before = await snapshot();
    const text = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('\u0000'));
    const bad = fc.oneof(
      fc.constant(''),
      fc.constant('a'.repeat(1001)),
      fc.constant('a\u0000b'),
      fc.integer(),
      fc.constant(null),
      fc.constant(undefined),
      fc.array(fc.string(), { maxLength: 2 }),
    );
    const cases = fc.oneof(
      fc.record({ field: fc.constant('jobId'), call: fc.tuple(bad.filter((v) => typeof v !== 'string' || !/^[1-9]/.test(v)), text, text) }),
      fc.record({ field: fc.constant('type'), call: fc.tuple(fc.constant('2'), bad.filter((v) => v !== 'a'.repeat(1001)), text) }),
      fc.record({ field: fc.constant('value'), call: fc.tuple(fc.constant('2'), text, bad) }),
    );
    await fc.assert(
      fc.asyncProperty(cases, fc.boolean(), async ({ field, call: [jobId, type, value] }, useLock) => {
        const attempt = useLock ? w.lock(jobId as string, type as string, value as string, WAIT) : w.unlock(jobId as string, type as string, value as string);
        const err = await attempt.then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field).toBe(field);
      }),
      { numRuns: 60 },
    );
    for (const [options, field] of [
      [{ inherit: 'yes', wait: true }, 'inherit'],
      [{ inherit: false, wait: 1 }, 'wait'],
      [{ inherit: false, wait: true, parentJobIds: 'x' }, 'parentJobIds'],
      [{ inherit: false, wait: true, parentJobIds: ['1', 'x'] }, 'parentJobIds[1]'],
      [{ inherit: false, wait: true, until: 'tomorrow' }, 'until'],
    ] as const) {
      await expect(w.lock('2', 't', 'held', options as unknown as WorkflowLockOptions)).rejects.toMatchObject({ field });
    }
    expect(await snapshot()).toEqual(before);
  });
});
