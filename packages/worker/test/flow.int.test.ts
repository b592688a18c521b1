/**
 * The worker's flow-control options, in one process against the real PostgreSQL, RabbitMQ and
 * Redis: validation that names the field, and what limited and unlimited functions do when the
 * flow-control store cannot be reached. Limits across processes: test/e2e/flow-limits.e2e.test.ts.
 */
import { describe, expect, inject, it } from 'vitest';
import { MemoryBroker } from '@drover/broker';
import { ValidationError } from '@drover/core';
import { MemoryFlowControl, RedisFlowControl } from '@drover/flow-control';
import { freePort, waitFor } from '@drover/testing';
import { createWorker } from '../src/index.js';
import { useWorkerHarness } from './harness.js';

const h = useWorkerHarness();
const handler = (): string => 'ok';

function fieldOf(options: Record<string, unknown>, functionOptions: Record<string, unknown>): string {
  try {
    createWorker({ store: h.ns.store, broker: new MemoryBroker(), functions: { f: { handler, ...functionOptions } }, ...options });
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).field;
  }
  throw new Error('accepted');
}

describe('flow-control options', () => {
  it('names the bad field', () => {
    const flowControl = new MemoryFlowControl();
    expect(fieldOf({ flowControl }, { rateLimit: { max: 0, perMs: 1000 } })).toBe('functions.f.rateLimit.max');
    expect(fieldOf({ flowControl }, { rateLimit: { max: 5, perMs: 1.5 } })).toBe('functions.f.rateLimit.perMs');
    expect(fieldOf({ flowControl }, { rateLimit: { max: 5 } })).toBe('functions.f.rateLimit.perMs');
    expect(fieldOf({ flowControl }, { rateLimit: { max: 5, perMs: 1000, key: 'a..b' } })).toBe('functions.f.rateLimit.key');
    expect(fieldOf({ flowControl }, { rateLimit: { max: 5, perMs: 1000, every: 1 } })).toBe('functions.f.rateLimit.every');
    expect(fieldOf({ flowControl }, { concurrency: { perKey: 2 } })).toBe('functions.f.concurrency.key');
    expect(fieldOf({ flowControl }, { concurrency: { perKey: -1, key: 'k' } })).toBe('functions.f.concurrency.perKey');
    expect(fieldOf({ flowControl }, { concurrency: 3 })).toBe('functions.f.concurrency');
    expect(fieldOf({}, { concurrency: { perKey: 2, key: 'k' } })).toBe('flowControl');
    expect(fieldOf({ flowControl, flowFailOpen: 'yes' }, { concurrency: { perKey: 2, key: 'k' } })).toBe('flowFailOpen');
  });

  it('fails the attempt of a job whose key is neither a string nor a number, naming the option', async () => {
    await h.startWorker({ flowControl: new MemoryFlowControl(), functions: { 'flow.badkey': { handler, concurrency: { perKey: 1, key: 'tenant' }, retryDelayMs: 60_000 } } });
    const [id] = await h.enqueue({ funcname: 'flow.badkey', arg: { tenant: { nested: true } } });
    const job = await waitFor(async () => {
      const j = await h.ns.store.getJob(id!);
      return j && j.failures === 1 ? j : null;
    }, { what: 'the attempt to fail' });
    expect(job.failureLog[0]!.error).toContain('functions.flow.badkey.concurrency.key');
  });
});

describe('flow control unreachable', () => {
  const unreachable = async (): Promise<RedisFlowControl> => new RedisFlowControl({ url: `redis://127.0.0.1:${await freePort()}`, commandTimeoutMs: 200 });

  it('fails closed by default: the limited function waits unclaimed, the unlimited one runs on', async () => {
    const flowControl = await unreachable();
    const ran: string[] = [];
    const worker = await h.startWorker({
      flowControl,
      ackLongRunningAfterMs: 60_000,
      functions: {
        'flow.closed': { handler: (job) => void ran.push(job.id), rateLimit: { max: 100, perMs: 1000 } },
        'flow.open': (job) => void ran.push(job.id),
      },
    });
    const [limited] = await h.enqueue({ funcname: 'flow.closed' });
    const [free] = await h.enqueue({ funcname: 'flow.open' });
    await waitFor(h.finished(free!), { what: 'the unlimited job to complete' });
    await waitFor(() => worker.stats().flowPaused >= 1, { what: 'the limited delivery to be held' });
    // Held before the claim: the job is still waiting for a worker, with no attempt and no failure.
    expect(await h.ns.store.getJob(limited!)).toMatchObject({ state: 'ready', attempts: 0, failures: 0 });
    expect(ran).toEqual([free]);
    await worker.stop();
    await flowControl.close();
  });

  it('fails open when asked: the limited function runs unlimited', async () => {
    const flowControl = await unreachable();
    await h.startWorker({ flowControl, flowFailOpen: true, functions: { 'flow.failopen': { handler, concurrency: { perKey: 1, key: 'k' } } } });
    const ids = await h.enqueue(...Array.from({ length: 3 }, () => ({ funcname: 'flow.failopen', arg: { k: 'same' } })));
    for (const id of ids) expect(await waitFor(h.finished(id), { what: 'the job to complete' })).toMatchObject({ state: 'completed', failures: 0 });
  });

  it('runs limited jobs once Redis answers (the same store, reachable)', async () => {
    const flowControl = new RedisFlowControl({ url: inject('droverServices').redisUrl, namespace: h.ns.namespace });
    await flowControl.ready();
    await h.startWorker({ flowControl, functions: { 'flow.reachable': { handler, rateLimit: { max: 10, perMs: 1000, key: 'k' } } } });
    const [id] = await h.enqueue({ funcname: 'flow.reachable', arg: { k: 1 } });
    expect(await waitFor(h.finished(id!), { what: 'the job to complete' })).toMatchObject({ state: 'completed', failures: 0 });
    await flowControl.close();
  });
});
