/**
 * cozy-stack's worker configuration on the real services: the before, onError and after hooks,
 * `noRetry()`, `PermanentFailure` as the abort error, and `maxExecCount` as the attempt limit.
 */
import { describe, expect, it } from 'vitest';
import { Decline, PermanentFailure, type JobWithFailures } from '@drover/core';
import { waitFor } from '@drover/testing';
import { AttemptAborted, createWorker, type JobOutcome } from '../src/index.js';
import { captureLogger } from './capture-logger.js';
import { useWorkerHarness } from './harness.js';

const h = useWorkerHarness();
const { ns } = h;

/** The job once it is in `state`. */
const inState = (id: string, state: string) => async (): Promise<JobWithFailures | null> => {
  const job = await ns.store.getJob(id);
  return job?.state === state ? job : null;
};

/** Waits for the job to finish, publishing it again whenever it is ready (retries with no delay), as the relay would. */
async function finishedRepublishing(funcname: string, id: string): Promise<JobWithFailures> {
  return waitFor(async () => {
    const job = await ns.store.getJob(id);
    if (job?.state === 'ready') await h.publish(funcname, id);
    return job && ['completed', 'failed', 'cancelled'].includes(job.state) ? job : null;
  }, { what: `job ${id} to finish`, intervalMs: 50 });
}

describe('worker hooks', () => {
  it('runs before, the handler, onError, the write and after in that order; after sees the written outcome', async () => {
    const calls: string[] = [];
    const seen = new Map<string, { outcome: JobOutcome; stateThen: string | undefined }>();
    await h.startWorker({
      functions: {
        'k.order': {
          maxRetries: 0,
          before: async (job) => void calls.push(`before ${(job.arg as string)}`),
          handler: (job) => {
            calls.push(`handler ${(job.arg as string)}`);
            if (job.arg === 'bad') throw new Error('broken');
            return 'fine';
          },
          onError: (job, err) => void calls.push(`onError ${(job.arg as string)} ${(err as Error).message}`),
          after: async (job, outcome) => {
            // The job's row as PostgreSQL has it when the hook runs.
            seen.set(job.id, { outcome, stateThen: (await ns.store.getJob(job.id))?.state });
            calls.push(`after ${(job.arg as string)} ${outcome.kind}`);
          },
        },
      },
    });
    const [good] = await h.enqueue({ funcname: 'k.order', arg: 'good' });
    await waitFor(() => seen.get(good!), { what: 'the after hook of the good job' });
    const [bad] = await h.enqueue({ funcname: 'k.order', arg: 'bad' });
    await waitFor(() => seen.get(bad!), { what: 'the after hook of the bad job' });
    expect(calls).toEqual(['before good', 'handler good', 'after good completed', 'before bad', 'handler bad', 'onError bad broken', 'after bad failed']);
    expect(seen.get(good!)).toEqual({ outcome: { kind: 'completed', written: true, result: 'fine', skipped: false }, stateThen: 'completed' });
    expect(seen.get(bad!)).toMatchObject({ outcome: { kind: 'failed', written: true, retry: false, runAfter: null }, stateThen: 'failed' });
    expect((seen.get(bad!)!.outcome as { error: string }).error).toMatch(/^Error: broken/);
  });

  it('skips the job when before returns false: completed with a null result, the handler unrun; a Decline or an error from before is the handler’s', async () => {
    let handled = 0;
    const outcomes = new Map<string, JobOutcome>();
    const judged: unknown[] = [];
    const worker = await h.startWorker({
      functions: {
        'k.before': {
          maxRetries: 5,
          retryDelayMs: 60_000,
          before: (job) => {
            if (job.arg === 'skip') return false;
            if (job.arg === 'later') throw new Decline('not yet', new Date(Date.now() + 3_600_000));
            if (job.arg === 'broken') throw new Error('before broke');
            if (job.arg === 'verb') return job.decline(new Date(Date.now() + 3_600_000)).then(() => true);
            return true;
          },
          handler: () => (handled++, 'ran'),
          onError: (_job, err) => void judged.push(err),
          after: (job, outcome) => void outcomes.set(job.id, outcome),
        },
      },
    });
    const [skip, run, later, broken, verb] = await h.enqueue(...['skip', 'run', 'later', 'broken', 'verb'].map((arg) => ({ funcname: 'k.before', arg })));
    expect(await waitFor(h.finished(skip!), { what: 'the skipped job' })).toMatchObject({ state: 'completed', result: null, attempts: 1, failures: 0 });
    expect(await waitFor(h.finished(run!), { what: 'the job that runs' })).toMatchObject({ state: 'completed', result: 'ran' });
    expect(await waitFor(inState(later!, 'scheduled'), { what: 'the declined job' })).toMatchObject({ failures: 0, failureLog: [] });
    const failed = await waitFor(inState(broken!, 'scheduled'), { what: 'the failed attempt' });
    expect(failed.failureLog.map((f) => f.error.split('\n')[0])).toEqual(['Error: before broke']);
    expect(await waitFor(inState(verb!, 'scheduled'), { what: 'the job declined by a verb in before' })).toMatchObject({ failures: 0 });
    await waitFor(() => outcomes.size === 5, { what: 'every after hook' });
    expect(handled).toBe(1);
    expect(outcomes.get(skip!)).toEqual({ kind: 'completed', written: true, result: null, skipped: true });
    expect(outcomes.get(later!)).toMatchObject({ kind: 'declined', written: true });
    expect(outcomes.get(broken!)).toMatchObject({ kind: 'failed', written: true, retry: true });
    expect(outcomes.get(verb!)).toMatchObject({ kind: 'declined', written: true });
    expect(judged.map((e) => (e as Error).message)).toEqual(['before broke']);
    expect(worker.stats()).toMatchObject({ completed: 2, skipped: 1 });
  });

  it('applies a skip by before to the coalesced siblings too, and gives the siblings back unrun when before settles the first job with a verb', async () => {
    let handled = 0;
    await h.startWorker({
      functions: {
        'k.beforesib': {
          coalesce: { max: 5 },
          before: async (job) => {
            if (job.arg === 'skip') return false;
            await job.permanentFailure('refused by before');
            return true;
          },
          handler: () => void handled++,
        },
      },
    });
    // Only each group's first id is published: the second job is claimed with it, as its sibling.
    const insert = async (arg: string, coalesce: string): Promise<string[]> => (await ns.store.insertMany([1, 2].map(() => ({ funcname: 'k.beforesib', coalesce, arg })))).map((r) => r.id);
    const skipped = await insert('skip', 'a');
    await h.publish('k.beforesib', skipped[0]!);
    for (const id of skipped) expect(await waitFor(h.finished(id), { what: 'the skipped jobs' })).toMatchObject({ state: 'completed', result: null, failures: 0 });
    const verb = await insert('verb', 'b');
    await h.publish('k.beforesib', verb[0]!);
    expect(await waitFor(h.finished(verb[0]!), { what: 'the first job failed by before' })).toMatchObject({ state: 'failed', failures: 1 });
    // The sibling went back to ready with no failure: no relay runs here to publish it again.
    expect(await waitFor(inState(verb[1]!, 'ready'), { what: 'the sibling to go back' })).toMatchObject({ failures: 0, attempts: 1 });
    expect(handled).toBe(0);
  });

  it('lets onError decide: false fails the job for good on the first attempt; true, nothing or a throw keep the retry; it gets what was thrown', async () => {
    const logger = captureLogger();
    const judged: unknown[] = [];
    await h.startWorker({
      logger,
      functions: {
        'k.onerror': {
          maxRetries: 5,
          retryDelayMs: 60_000,
          timeoutMs: 500,
          handler: async (job) => {
            if (job.arg === 'slow') await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
            else if (job.arg === 'verb') await job.fail(new TypeError('told to fail'));
            else throw new RangeError((job.arg as string));
          },
          onError: (job, err) => {
            judged.push(err);
            if (job.arg === 'final' || job.arg === 'slow' || job.arg === 'verb') return false;
            if (job.arg === 'throws') throw new Error('the hook broke');
            return job.arg === 'retry' ? true : undefined;
          },
        },
      },
    });
    const ids = await h.enqueue(...['final', 'retry', 'silent', 'throws', 'slow', 'verb'].map((arg) => ({ funcname: 'k.onerror', arg })));
    const [final, retry, silent, throws, slow, verb] = ids;
    for (const id of [final!, slow!, verb!]) expect(await waitFor(h.finished(id), { what: 'a failure made final by onError' })).toMatchObject({ state: 'failed', attempts: 1, failures: 1 });
    for (const id of [retry!, silent!, throws!]) expect(await waitFor(inState(id, 'scheduled'), { what: 'a retried failure' })).toMatchObject({ attempts: 1, failures: 1 });
    expect((await ns.store.getJob(slow!))!.failureLog[0]!.error).toBe('timed out after 500 ms');
    expect(judged).toHaveLength(6);
    const errors = judged as Error[];
    expect(errors.filter((e) => e instanceof RangeError).map((e) => e.message).sort()).toEqual(['final', 'retry', 'silent', 'throws']);
    expect(errors.find((e) => e instanceof AttemptAborted)).toMatchObject({ reason: 'timeout' });
    expect(errors.find((e) => e instanceof TypeError)?.message).toBe('told to fail');
    expect(logger.lines.some((l) => l.level === 'error' && l.fields.hook === 'onError' && /the hook broke/.test(String(l.fields.err)))).toBe(true);
  });

  it('does not ask onError after PermanentFailure or noRetry, and stops waiting for an onError that hangs once the timeout aborts the attempt', async () => {
    const judged: string[] = [];
    await h.startWorker({
      functions: {
        'k.notasked': {
          maxRetries: 5,
          handler: (job) => {
            if (job.arg === 'permanent') throw new PermanentFailure('bad input');
            job.noRetry();
            throw new Error('no retry');
          },
          onError: (job) => void judged.push((job.arg as string)),
        },
        'k.hang': {
          maxRetries: 5,
          retryDelayMs: 60_000,
          timeoutMs: 300,
          slots: 1,
          handler: (job) => {
            if (job.arg === 'next') return 'the slot is free';
            throw new Error('fails at once');
          },
          onError: () => new Promise(() => undefined),
        },
      },
    });
    const [permanent, noRetry, hang] = await h.enqueue({ funcname: 'k.notasked', arg: 'permanent' }, { funcname: 'k.notasked', arg: 'noretry' }, { funcname: 'k.hang' });
    for (const id of [permanent!, noRetry!]) expect(await waitFor(h.finished(id), { what: 'a failure for good' })).toMatchObject({ state: 'failed', failures: 1 });
    expect(judged).toEqual([]);
    // The hook never answers: at the timeout the retry stands and the slot is freed.
    expect(await waitFor(inState(hang!, 'scheduled'), { what: 'the hung onError to be given up' })).toMatchObject({ failures: 1 });
    const [next] = await h.enqueue({ funcname: 'k.hang', arg: 'next' });
    expect(await waitFor(h.finished(next!), { what: 'the next job to get the slot' })).toMatchObject({ state: 'completed', result: 'the slot is free' });
  });

  it('runs after for every kind of outcome, and what after throws changes nothing', async () => {
    const logger = captureLogger();
    const outcomes = new Map<string, JobOutcome>();
    let calls = 0;
    const worker = await h.startWorker({
      logger,
      functions: {
        'k.after': {
          maxRetries: 1,
          retryDelayMs: 60_000,
          timeoutMs: 300,
          leaseMs: 1_000,
          handler: async (job) => {
            switch (job.arg) {
              case 'complete':
                return { n: 1 };
              case 'replace':
                return job.replaceWith([{ funcname: 'k.elsewhere', arg: 'next' }]);
              case 'decline':
                throw new Decline('later', new Date(Date.now() + 3_600_000));
              case 'permanent':
                throw new PermanentFailure('no');
              case 'timeout':
                return new Promise(() => undefined);
              case 'cancelled':
                // Cancelled while running: the lease keeper's next renewal is refused and the attempt is fenced.
                await ns.store.cancel(job.id);
                return new Promise((resolve) => job.signal.addEventListener('abort', resolve));
              case 'refused':
                await ns.store.cancel(job.id);
                return 'too late';
              default:
                throw new Error('retry me');
            }
          },
          after: (job, outcome) => {
            calls++;
            outcomes.set(job.id, outcome);
            // Half the calls throw, half reject: neither changes anything.
            if (calls % 2 === 0) throw new Error('after broke (sync)');
            return Promise.reject(new Error('after broke (async)'));
          },
        },
      },
    });
    const args = ['complete', 'replace', 'decline', 'permanent', 'timeout', 'cancelled', 'refused', 'retry'];
    // The cancelled job's own timeout outlasts the lease keeper's next renewal (a third of the lease).
    const ids = await h.enqueue(...args.map((arg) => ({ funcname: 'k.after', arg, ...(arg === 'cancelled' ? { timeoutMs: 10_000 } : {}) })));
    const of = (arg: string): string => ids[args.indexOf(arg)]!;
    await waitFor(() => outcomes.size === args.length, { what: 'every after hook', timeoutMs: 15_000 });
    expect(outcomes.get(of('complete'))).toEqual({ kind: 'completed', written: true, result: { n: 1 }, skipped: false });
    expect(outcomes.get(of('replace'))).toMatchObject({ kind: 'replaced', written: true, jobs: [{ funcname: 'k.elsewhere', arg: 'next' }] });
    expect(outcomes.get(of('decline'))).toMatchObject({ kind: 'declined', written: true });
    expect(outcomes.get(of('permanent'))).toMatchObject({ kind: 'failed', written: true, retry: false });
    expect(outcomes.get(of('timeout'))).toMatchObject({ kind: 'failed', written: true, retry: true, error: 'timed out after 300 ms' });
    expect(outcomes.get(of('cancelled'))).toEqual({ kind: 'lost', written: false });
    expect(outcomes.get(of('refused'))).toEqual({ kind: 'completed', written: false, result: 'too late', skipped: false });
    const retried = outcomes.get(of('retry'));
    expect(retried).toMatchObject({ kind: 'failed', written: true, retry: true });
    // The outcomes stand as written, whatever the hook threw.
    expect(await ns.store.getJob(of('complete'))).toMatchObject({ state: 'completed', result: { n: 1 } });
    expect(await ns.store.getJob(of('replace'))).toMatchObject({ state: 'completed' });
    expect(await ns.store.getJob(of('decline'))).toMatchObject({ state: 'scheduled', failures: 0 });
    expect(await ns.store.getJob(of('permanent'))).toMatchObject({ state: 'failed', failures: 1 });
    expect(await ns.store.getJob(of('timeout'))).toMatchObject({ state: 'scheduled', failures: 1 });
    expect(await ns.store.getJob(of('cancelled'))).toMatchObject({ state: 'cancelled' });
    expect(await ns.store.getJob(of('refused'))).toMatchObject({ state: 'cancelled' });
    const job = await ns.store.getJob(of('retry'));
    expect(job).toMatchObject({ state: 'scheduled', failures: 1 });
    expect((retried as { runAfter: Date }).runAfter.getTime()).toBe(job!.runAfter!.getTime());
    expect(logger.lines.filter((l) => l.fields.hook === 'after' && l.level === 'error')).toHaveLength(args.length);
    // And the worker goes on working.
    const [more] = await h.enqueue({ funcname: 'k.after', arg: 'complete' });
    expect(await waitFor(h.finished(more!), { what: 'a job after the hooks broke' })).toMatchObject({ state: 'completed' });
    expect(worker.stats()).toMatchObject({ completed: 3, declined: 1, failed: 3 });
  });

  it('does not let an after hook that never returns hold stop() past its grace period', async () => {
    let afterCalled = false;
    const worker = await h.startWorker({
      shutdownGraceMs: 200,
      functions: { 'k.afterhang': { handler: () => 'done', after: () => ((afterCalled = true), new Promise(() => undefined)) } },
    });
    const [id] = await h.enqueue({ funcname: 'k.afterhang' });
    await waitFor(() => afterCalled, { what: 'the after hook to start' });
    expect(await ns.store.getJob(id!)).toMatchObject({ state: 'completed', result: 'done' });
    await worker.stop();
    expect(worker.stats()).toMatchObject({ completed: 1, declined: 0 });
  });
});

describe('noRetry and the abort error', () => {
  it('fails the job for good on the first attempt after noRetry() or on PermanentFailure, with retries left', async () => {
    const runs = new Map<string, number>();
    await h.startWorker({
      functions: {
        'k.noretry': {
          timeoutMs: 300,
          handler: async (job) => {
            runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
            job.noRetry();
            if (job.arg === 'throw') throw new Error('gave up');
            if (job.arg === 'fail') return job.fail('failed by the verb');
            if (job.arg === 'timeout') return new Promise(() => undefined);
            if (job.arg === 'abort') throw new PermanentFailure('aborted');
            return 'a success still completes';
          },
        },
      },
    });
    const args = ['throw', 'fail', 'timeout', 'abort', 'succeed'];
    const ids = await h.enqueue(...args.map((arg) => ({ funcname: 'k.noretry', arg, maxRetries: 10 })));
    const jobs = await Promise.all(ids.map((id) => waitFor(h.finished(id), { what: 'the job to finish' })));
    expect(jobs.map((j) => [j.arg, j.state, j.attempts, j.failures])).toEqual([
      ['throw', 'failed', 1, 1],
      ['fail', 'failed', 1, 1],
      ['timeout', 'failed', 1, 1],
      ['abort', 'failed', 1, 1],
      ['succeed', 'completed', 1, 0],
    ]);
    expect(jobs.map((j) => j.failureLog[0]?.error.split('\n')[0])).toEqual(['Error: gave up', 'failed by the verb', 'timed out after 300 ms', 'PermanentFailure: aborted', undefined]);
    expect(ids.map((id) => runs.get(id))).toEqual([1, 1, 1, 1, 1]);
  });

  it('fails a coalesced sibling the handler left unsettled for good, alike, after the first job’s noRetry()', async () => {
    await h.startWorker({
      functions: {
        'k.noretrysib': {
          coalesce: { max: 5 },
          slots: 1,
          handler: (job) => {
            if (job.siblings.length === 0) return 'alone';
            job.noRetry();
            throw new Error('all of them');
          },
        },
      },
    });
    // Only the first job's id is published: the second is claimed with it, as its sibling.
    const ids = (await ns.store.insertMany([1, 2].map((n) => ({ funcname: 'k.noretrysib', coalesce: 'c', arg: n, maxRetries: 10 })))).map((r) => r.id);
    await h.publish('k.noretrysib', ids[0]!);
    const jobs = await Promise.all(ids.map((id) => waitFor(h.finished(id), { what: 'both jobs to finish' })));
    for (const j of jobs) expect(j).toMatchObject({ state: 'failed', failures: 1, attempts: 1 });
    expect(jobs[1]!.failureLog[0]!.error).toMatch(/^Error: all of them/);
  });
});

describe('maxExecCount', () => {
  it('limits the failed attempts, as maxRetries one less does, over the job’s own max retries', async () => {
    const runs = new Map<string, number>();
    await h.startWorker({
      functions: {
        'k.exec2': { maxExecCount: 2, retryDelayMs: 0, handler: (job) => { runs.set(job.id, (runs.get(job.id) ?? 0) + 1); throw new Error('again'); } },
        'k.exec1': { maxExecCount: 1, handler: (job) => { runs.set(job.id, (runs.get(job.id) ?? 0) + 1); throw new Error('once'); } },
        'k.both': { maxExecCount: 3, maxRetries: 2, retryDelayMs: 0, handler: (job) => { runs.set(job.id, (runs.get(job.id) ?? 0) + 1); throw new Error('thrice'); } },
      },
    });
    const [two] = await h.enqueue({ funcname: 'k.exec2', maxRetries: 10 });
    const [one] = await h.enqueue({ funcname: 'k.exec1', maxRetries: 10 });
    const [three] = await h.enqueue({ funcname: 'k.both', maxRetries: 10 });
    expect(await finishedRepublishing('k.exec2', two!)).toMatchObject({ state: 'failed', failures: 2, attempts: 2 });
    expect(await finishedRepublishing('k.exec1', one!)).toMatchObject({ state: 'failed', failures: 1, attempts: 1 });
    expect(await finishedRepublishing('k.both', three!)).toMatchObject({ state: 'failed', failures: 3, attempts: 3 });
    expect([two, one, three].map((id) => runs.get(id!))).toEqual([2, 1, 3]);
  });

  it('refuses bad limits and hooks, naming the option, and maxExecCount and maxRetries that disagree, naming both', () => {
    const make = (options: Record<string, unknown>) => () => createWorker({ store: ns.store, broker: h.broker, functions: { 'k.x': { handler: () => 1, ...options } } });
    expect(make({ maxExecCount: 0 })).toThrow(/^functions\.k\.x\.maxExecCount: must be an integer from 1 to 1001$/);
    expect(make({ maxExecCount: 1.5 })).toThrow(/^functions\.k\.x\.maxExecCount: /);
    expect(make({ maxExecCount: 1002 })).toThrow(/^functions\.k\.x\.maxExecCount: /);
    expect(make({ maxExecCount: '3' })).toThrow(/^functions\.k\.x\.maxExecCount: /);
    expect(make({ maxRetries: -1 })).toThrow(/^functions\.k\.x\.maxRetries: must be an integer from 0 to 1000$/);
    expect(make({ maxExecCount: 3, maxRetries: 3 })).toThrow(/^functions\.k\.x\.maxExecCount: is 3, which means maxRetries 2, but functions\.k\.x\.maxRetries is 3/);
    expect(make({ maxExecCount: 3, maxRetries: 2 })).not.toThrow();
    for (const hook of ['before', 'onError', 'after']) expect(make({ [hook]: 'not a function' })).toThrow(new RegExp(`^functions\\.k\\.x\\.${hook}: must be a function$`));
  });
});
