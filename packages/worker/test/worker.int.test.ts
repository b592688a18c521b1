import amqp from 'amqplib';
import { describe, expect, inject, it } from 'vitest';
import { Decline, PermanentFailure } from '@drover/core';
import { createAmqpBroker, deleteBrokerNamespace, exchangeName } from '@drover/broker';
import { useWorkerHarness } from './harness.js';
import { waitFor } from '@drover/testing';
import { createWorker } from '../src/index.js';

const h = useWorkerHarness();
const { ns, enqueue, startWorker, finished } = h;

/** A handler that takes 30 ms and records how many of its calls ran at once. */
function concurrencyProbe(): { handler: () => Promise<void>; peak(): number } {
  let now = 0;
  let peak = 0;
  return {
    handler: async () => {
      peak = Math.max(peak, ++now);
      await new Promise((r) => setTimeout(r, 30));
      now--;
    },
    peak: () => peak,
  };
}


describe('worker', () => {
  it('runs a handler and completes the job with its return value', async () => {
    await startWorker({ functions: { 'w.add': async (job) => (job.arg as { a: number; b: number }).a + (job.arg as { a: number; b: number }).b } });
    const [id] = await enqueue({ funcname: 'w.add', arg: { a: 2, b: 3 } });
    const job = await waitFor(finished(id!), { what: 'the job to finish' });
    expect(job).toMatchObject({ state: 'completed', result: 5, attempts: 1, failures: 0 });
  });

  it('retries a throwing handler with its retry delay, then fails it with every attempt logged', async () => {
    let calls = 0;
    await startWorker({ functions: { 'w.flaky': { handler: () => { calls++; throw new Error(`broke ${calls}`); }, retryDelayMs: 0, maxRetries: 2 } } });
    const [id] = await enqueue({ funcname: 'w.flaky' });
    // With a zero delay the job is ready again at once; republish each time, as the relay would.
    const job = await waitFor(async () => {
      const j = await ns.store.getJob(id!);
      if (j?.state === 'ready') await h.broker.publish([{ funcname: 'w.flaky', jobId: id!, priority: 0 }]);
      return j?.state === 'failed' ? j : null;
    }, { what: 'the job to fail for good', intervalMs: 50 });
    expect(job.failures).toBe(3);
    expect(job.failureLog.map((f) => f.error.split('\n')[0])).toEqual(['Error: broke 1', 'Error: broke 2', 'Error: broke 3']);
    expect(calls).toBe(3);
  });

  it('backs off on the default schedule after a failure', async () => {
    await startWorker({ functions: { 'w.backoff': () => { throw new Error('later'); } }, random: () => 0.5 });
    const [id] = await enqueue({ funcname: 'w.backoff' });
    const job = await waitFor(async () => {
      const j = await ns.store.getJob(id!);
      return j?.state === 'scheduled' ? j : null;
    }, { what: 'the job to be backed off' });
    const failedAt = job.failureLog[0]!.failedAt.getTime();
    expect(job.runAfter!.getTime() - failedAt).toBe(2 * 60_000);
  });

  it('fails for good on PermanentFailure and gives back on Decline, without counting it', async () => {
    await startWorker({
      functions: {
        'w.permanent': () => { throw new PermanentFailure('bad input'); },
        'w.decline': () => { throw new Decline('not now', new Date(Date.now() + 3_600_000)); },
      },
    });
    const [p, d] = await enqueue({ funcname: 'w.permanent', maxRetries: 10 }, { funcname: 'w.decline' });
    expect(await waitFor(finished(p!), { what: 'the permanent failure' })).toMatchObject({ state: 'failed', failures: 1 });
    const declined = await waitFor(async () => {
      const j = await ns.store.getJob(d!);
      return j?.state === 'scheduled' ? j : null;
    }, { what: 'the decline' });
    expect(declined).toMatchObject({ failures: 0, attempts: 1, failureLog: [] });
  });

  it('runs the handler once for a duplicated message', async () => {
    let calls = 0;
    // The first run lasts until the three other copies have been dropped: they arrive while it runs.
    const worker = await startWorker({
      functions: {
        'w.dup': { handler: async () => { if (++calls === 1) await waitFor(() => worker.stats().dropped >= 3, { what: 'the copies to be dropped' }); return 'once'; }, slots: 4 },
      },
    });
    const [id] = await enqueue({ funcname: 'w.dup' });
    await h.broker.publish([1, 2, 3].map(() => ({ funcname: 'w.dup', jobId: id!, priority: 0 })));
    expect(await waitFor(finished(id!), { what: 'the job to finish' })).toMatchObject({ state: 'completed', result: 'once' });
    // Late duplicates arrive after completion: they must be dropped too.
    await h.broker.publish([{ funcname: 'w.dup', jobId: id!, priority: 0 }]);
    const [marker] = await enqueue({ funcname: 'w.dup' });
    await waitFor(finished(marker!), { what: 'a later job, proving the duplicates were consumed' });
    expect(calls).toBe(2);
  });

  it('drops messages that are not Drover job ids, or name unknown jobs, and keeps working', async () => {
    const worker = await startWorker({ functions: { 'w.garbage': () => 'ok' } });
    const raw = await amqp.connect(inject('droverServices').amqpUrl);
    const channel = await raw.createConfirmChannel();
    for (const body of ['', 'hello', '{"id":1}', '-5', '99999999999999999999', '\u0000\u0001']) {
      channel.publish(exchangeName(ns.namespace), 'w.garbage', Buffer.from(body), { persistent: true });
    }
    await channel.waitForConfirms();
    await raw.close();
    await h.broker.publish([{ funcname: 'w.garbage', jobId: '987654321', priority: 0 }]);
    const [id] = await enqueue({ funcname: 'w.garbage' });
    expect(await waitFor(finished(id!), { what: 'a real job after the garbage' })).toMatchObject({ state: 'completed', result: 'ok' });
    expect(worker.stats().dropped).toBeGreaterThanOrEqual(7);
  });

  it('fails the attempt of a handler whose result is not JSON, and completes the jobs that shared its statement', async () => {
    await startWorker({ functions: { 'w.result': { handler: (job) => ((job.arg as { bad?: boolean }).bad ? 10n : 'fine'), slots: 8, maxRetries: 0 } } });
    const ids = await enqueue(...Array.from({ length: 6 }, (_, i) => ({ funcname: 'w.result', arg: { bad: i === 2 } })));
    const jobs = await Promise.all(ids.map((id) => waitFor(finished(id), { what: 'the jobs to finish' })));
    expect(jobs.map((j) => j.state)).toEqual(['completed', 'completed', 'failed', 'completed', 'completed', 'completed']);
    expect(jobs[2]!.failureLog[0]!.error).toMatch(/result cannot be stored: .*bigint is not JSON/);
  });

  it('fails an attempt that runs past its timeout and aborts its signal', async () => {
    let aborted: unknown;
    await startWorker({ functions: { 'w.slow': { handler: (job) => new Promise((resolve) => job.signal.addEventListener('abort', () => { aborted = job.signal.reason; resolve('too late'); })), timeoutMs: 200, maxRetries: 0 } } });
    const [id] = await enqueue({ funcname: 'w.slow' });
    const job = await waitFor(finished(id!), { what: 'the timeout' });
    expect(job).toMatchObject({ state: 'failed' });
    expect(job.failureLog[0]!.error).toBe('timed out after 200 ms');
    expect((aborted as Error).message).toMatch(/timed out/);
  });

  it('keeps a slot group to its shared budget', async () => {
    const probe = concurrencyProbe();
    await startWorker({ functions: { 'w.ga': { handler: probe.handler, group: 'g' }, 'w.gb': { handler: probe.handler, group: 'g' } }, slotGroups: { g: 3 } });
    const ids = await enqueue(...Array.from({ length: 12 }, (_, i) => ({ funcname: i % 2 ? 'w.ga' : 'w.gb' })));
    for (const id of ids) await waitFor(finished(id), { what: 'the group jobs' });
    expect(probe.peak()).toBe(3);
  });

  it('keeps a slot group to its budget on quorum queues too, which cannot share a prefetch', async () => {
    const quorumNs = `${ns.namespace}q`;
    const quorum = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: quorumNs, queueType: 'quorum' });
    const probe = concurrencyProbe();
    const worker = createWorker({ store: ns.store, broker: quorum, functions: { 'w.qa': { handler: probe.handler, group: 'g' }, 'w.qb': { handler: probe.handler, group: 'g' } }, slotGroups: { g: 2 } });
    try {
      await worker.start();
      const jobs = Array.from({ length: 12 }, (_, i) => ({ funcname: i % 2 ? 'w.qa' : 'w.qb' }));
      const ids = (await ns.store.insertMany(jobs)).map((r) => r.id);
      await quorum.publish(jobs.map((j, i) => ({ funcname: j.funcname, jobId: ids[i]!, priority: 0 })));
      for (const id of ids) await waitFor(finished(id), { what: 'the group jobs' });
      expect(probe.peak()).toBe(2);
    } finally {
      await worker.stop();
      await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: quorumNs, funcnames: ['w.qa', 'w.qb'] });
      await quorum.close();
    }
  });

  it('renews the lease of a job that runs longer than the lease', async () => {
    // The handler runs until the test has seen its first lease pass.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await startWorker({ functions: { 'w.long': { handler: async () => { await released; return 'done'; }, leaseMs: 1000 } } });
    const [id] = await enqueue({ funcname: 'w.long' });
    const firstLease = (await waitFor(async () => { const j = await ns.store.getJob(id!); return j?.state === 'running' ? j.grabbedUntil : null; }, { what: 'the job to start' })).getTime();
    // A real wait, and the claim's own subject: the first lease's end, on the clock the store uses.
    await waitFor(() => Date.now() > firstLease + 100, { what: 'the first lease to end', timeoutMs: 5_000 });
    // Past its first lease: a sweep now must find it alive.
    expect((await ns.store.expireLeases()).map((r) => r.id)).not.toContain(id);
    release();
    expect(await waitFor(finished(id!), { what: 'the long job' })).toMatchObject({ state: 'completed', failures: 0 });
  });

  it('completes and enqueues the replacement jobs through replaceWith', async () => {
    await startWorker({ functions: { 'w.chain': async (job) => { if (job.arg === 'first') await job.replaceWith([{ funcname: 'w.chained', arg: 'second' }]); } } });
    const [id] = await enqueue({ funcname: 'w.chain', arg: 'first' });
    expect(await waitFor(finished(id!), { what: 'the chain job' })).toMatchObject({ state: 'completed' });
    expect((await ns.store.findJobs({ funcname: 'w.chained' })).map((j) => j.arg)).toEqual(['second']);
  });

  it('on stop, lets a running job finish within the grace period and gives back one that cannot', async () => {
    // The quick job finishes only once stop() has begun: it is running when the stop comes.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const worker = await startWorker({
      functions: {
        'w.quick': async () => { await released; return 'finished'; },
        'w.stuck': () => new Promise(() => undefined),
      },
      shutdownGraceMs: 1000,
    });
    const [quick, stuck] = await enqueue({ funcname: 'w.quick' }, { funcname: 'w.stuck' });
    await waitFor(async () => (await ns.store.getJob(stuck!))?.state === 'running' && (await ns.store.getJob(quick!))?.state === 'running', { what: 'both jobs to start' });
    const stopping = worker.stop();
    release();
    await stopping;
    expect(await ns.store.getJob(quick!)).toMatchObject({ state: 'completed', result: 'finished' });
    expect(await ns.store.getJob(stuck!)).toMatchObject({ state: 'ready', failures: 0, failureLog: [] });
  });

  it('rejects bad options, naming the option', () => {
    expect(() => createWorker({ store: ns.store, broker: h.broker, functions: { 'w.x': { handler: () => 1, slots: 0 } } })).toThrow(/functions\.w\.x\.slots/);
    expect(() => createWorker({ store: ns.store, broker: h.broker, functions: { 'bad name': () => 1 } })).toThrow(/functions\.bad name/);
    expect(() => createWorker({ store: ns.store, broker: h.broker, functions: { 'w.x': { handler: () => 1, group: 'nope' } } })).toThrow(/functions\.w\.x\.group/);
    expect(() => createWorker({ store: ns.store, broker: h.broker, functions: { 'w.x': { handler: () => 1, slotz: 3 } as never } })).toThrow(/functions\.w\.x\.slotz/);
  });
});
