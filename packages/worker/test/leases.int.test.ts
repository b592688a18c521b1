import { performance } from 'node:perf_hooks';
import { describe, expect, inject, it } from 'vitest';
import type { WorkerStore } from '@drover/core';
import { createAmqpBroker, deleteBrokerNamespace } from '@drover/broker';
import { PgJobStore, createPgPool } from '@drover/store';
import { startTcpProxy, waitFor } from '@drover/testing';
import { AttemptAborted, createWorker } from '../src/index.js';
import { captureLogger } from './capture-logger.js';
import { useWorkerHarness } from './harness.js';

const h = useWorkerHarness();

describe('worker leases', () => {
  it('aborts the handler of a worker cut off from PostgreSQL when its lease runs out, writes nothing, and the job completes once elsewhere', async () => {
    const proxy = await startTcpProxy(h.ns.databaseUrl);
    const cutStore = new PgJobStore(createPgPool({ connectionString: proxy.url, namespace: h.ns.namespace }), { namespace: h.ns.namespace, ownsPool: true });
    // A second worker, straight to PostgreSQL, on a queue of its own so that only it gets the job's next message.
    const otherNs = `${h.ns.namespace}b`;
    const otherBroker = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: otherNs });
    const logger = captureLogger();
    const leaseMs = 1500;
    let abortedAt: number | null = null;
    let reason: unknown;
    let releaseLate!: () => void;
    const late = new Promise<void>((resolve) => (releaseLate = resolve));
    let cutRuns = 0;
    let otherRuns = 0;
    const cutWorker = await h.startWorker({
      store: cutStore,
      logger,
      functions: {
        'l.cut': {
          handler: async (job) => {
            cutRuns++;
            job.signal.addEventListener('abort', () => {
              abortedAt = performance.now();
              reason = job.signal.reason;
            });
            // Ignores its signal: a handler that does not cooperate must still write nothing.
            await late;
            return 'from the cut-off worker';
          },
          leaseMs,
          slots: 1,
        },
      },
    });
    const other = createWorker({ store: h.ns.store, broker: otherBroker, functions: { 'l.cut': { handler: () => (otherRuns++, 'from the other worker'), leaseMs } } });
    try {
      const [id] = await h.enqueue({ funcname: 'l.cut' });
      await waitFor(() => cutRuns === 1, { what: 'the handler to start' });
      const cutAt = performance.now();
      proxy.cut();
      await waitFor(() => abortedAt, { what: 'the handler to be aborted', timeoutMs: 10_000 });
      expect(reason).toBeInstanceOf(AttemptAborted);
      expect((reason as AttemptAborted).message).toMatch(/lease ran out without a renewal/);
      // The lease runs from the claim, sent before the cut: the abort comes no later than a lease after it.
      expect(abortedAt! - cutAt).toBeLessThan(leaseMs + 1000);
      const fenced = logger.lines.find((l) => l.message.startsWith('lease ran out'));
      expect(fenced?.fields).toMatchObject({ jobId: id });
      process.stdout.write(`[measure] fenced ${String(fenced?.fields.lateMs)} ms after the lease end on the worker's clock; ${Math.round(abortedAt! - cutAt)} ms after the cut (lease ${leaseMs} ms)\n`);
      expect(cutWorker.stats()).toMatchObject({ fenced: 1, running: 0, completed: 0 });

      // The scheduler's sweep takes the job back once PostgreSQL's lease ends too, and another worker runs it.
      await waitFor(async () => (await h.ns.store.expireLeases()).some((r) => r.id === id), { what: 'the lease to expire', timeoutMs: 10_000 });
      await h.ns.store.reschedule(id!, '+0');
      await other.start();
      await otherBroker.publish([{ funcname: 'l.cut', jobId: id!, priority: 0 }]);
      const done = await waitFor(h.finished(id!), { what: 'the other worker to complete the job' });
      expect(done).toMatchObject({ state: 'completed', result: 'from the other worker', failures: 1 });
      expect(done.failureLog.map((f) => f.error)).toEqual(['lease expired']);

      // Healed, the first handler finally returns: nothing is written, and nothing could be.
      proxy.heal();
      proxy.reset();
      releaseLate();
      await waitFor(async () => (await cutStore.getJob(id!))?.state === 'completed', { what: 'the cut-off worker to reach PostgreSQL again' });
      expect(await h.ns.store.getJob(id!)).toMatchObject({ state: 'completed', result: 'from the other worker', attempts: 2 });
      expect(cutWorker.stats().completed).toBe(0);
      expect([cutRuns, otherRuns]).toEqual([1, 1]);
    } finally {
      releaseLate();
      proxy.heal();
      proxy.reset();
      await other.stop();
      await cutWorker.stop();
      await proxy.close();
      await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: otherNs, funcnames: ['l.cut'] });
      await otherBroker.close();
    }
  });

  it('renews every running lease with one statement per pass, however long the jobs run', async () => {
    const batches: number[] = [];
    const store = new Proxy(h.ns.store, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop === 'heartbeat') {
          return (grabs: Parameters<WorkerStore['heartbeat']>[0], options: Parameters<WorkerStore['heartbeat']>[1]) => {
            batches.push(grabs.length);
            return target.heartbeat(grabs, options);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    let started = 0;
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const worker = await h.startWorker({ store, functions: { 'l.many': { handler: async () => (started++, await hold, 'ok'), leaseMs: 1000, slots: 4 } } });
    const ids = await h.enqueue(...Array.from({ length: 4 }, () => ({ funcname: 'l.many' })));
    await waitFor(() => started === 4, { what: 'the four jobs to start' });
    const before = (await h.ns.store.getJob(ids[0]!))!.grabbedUntil!;
    // Ten renewal periods (a third of the lease each).
    await waitFor(() => batches.length >= 10, { what: 'ten renewal passes', timeoutMs: 15_000 });
    release();
    for (const id of ids) expect(await waitFor(h.finished(id), { what: 'the jobs to finish' })).toMatchObject({ state: 'completed', failures: 0 });
    expect(batches.every((n) => n === 4)).toBe(true);
    expect(worker.stats().renewals).toBe(batches.length);
    expect((await h.ns.store.getJob(ids[0]!))!.finishedAt!.getTime()).toBeGreaterThan(before.getTime());
  });
});
