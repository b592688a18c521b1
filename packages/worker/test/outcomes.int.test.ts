import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@drover/testing';
import { captureLogger } from './capture-logger.js';
import { useWorkerHarness } from './harness.js';

const h = useWorkerHarness();
const run = promisify(execFile);

/** Unacknowledged deliveries of a queue, as RabbitMQ reports them. */
async function unacked(queue: string): Promise<number | null> {
  const { stdout } = await run('rabbitmqctl', ['list_queues', '-q', '--no-table-headers', 'name', 'messages_unacknowledged'], { timeout: 30_000 });
  const line = stdout.split('\n').map((l) => l.trim().split(/\s+/)).find(([name]) => name === queue);
  return line ? Number(line[1]) : null;
}

describe('worker outcomes', () => {
  it('fails once, naming the field, a result PostgreSQL cannot hold; records an error text with a NUL; fails bad replacement jobs', async () => {
    const runs = new Map<string, number>();
    const count = (id: string): void => void runs.set(id, (runs.get(id) ?? 0) + 1);
    await h.startWorker({
      functions: {
        'o.nul': { handler: (job) => (count(job.id), { s: 'a\u0000b' }), maxRetries: 0 },
        'o.nulretry': { handler: (job) => (count(job.id), { s: 'a\u0000b' }), retryDelayMs: 60_000 },
        'o.throws': { handler: (job) => { count(job.id); throw new Error('bad\u0000byte and a lone \uD800'); }, maxRetries: 0 },
        'o.replace': { handler: async (job) => { count(job.id); await job.replaceWith([{ funcname: 'not a funcname' }]); }, maxRetries: 0 },
      },
    });
    const [nul, nulRetry, throws, replace] = await h.enqueue({ funcname: 'o.nul' }, { funcname: 'o.nulretry' }, { funcname: 'o.throws' }, { funcname: 'o.replace' });
    const failed = await waitFor(h.finished(nul!), { what: 'the NUL result to fail' });
    expect(failed).toMatchObject({ state: 'failed', failures: 1, attempts: 1 });
    expect(failed.failureLog[0]!.error).toMatch(/result cannot be stored: .*result\.s: /);
    // With retries left, one failed attempt backed off: not a loop of lease expiries.
    const backedOff = await waitFor(async () => {
      const j = await h.ns.store.getJob(nulRetry!);
      return j?.state === 'scheduled' ? j : null;
    }, { what: 'the retryable NUL result to back off' });
    expect(backedOff).toMatchObject({ failures: 1, attempts: 1 });
    const thrown = await waitFor(h.finished(throws!), { what: 'the NUL error to be recorded' });
    expect(thrown).toMatchObject({ state: 'failed', failures: 1 });
    expect(thrown.failureLog[0]!.error).toContain('Error: bad\\u0000byte and a lone \uFFFD');
    const replaced = await waitFor(h.finished(replace!), { what: 'the bad replacement to fail' });
    expect(replaced).toMatchObject({ state: 'failed', failures: 1 });
    expect(replaced.failureLog[0]!.error).toMatch(/replacement jobs cannot be stored: .*funcname/);
    expect([nul, nulRetry, throws, replace].map((id) => runs.get(id!))).toEqual([1, 1, 1, 1]);
  });

  it('gives back, unrun and without a failure, a job whose claim returned after stop() ended its grace period, before stop() resolves', async () => {
    let runs = 0;
    const logger = captureLogger();
    // The worker's store, seen as its caller sees it: closed as soon as stop() resolves. (The
    // namespace closes the pool itself after the file; closing it twice would throw.)
    let closed = false;
    const own = h.ns.createStore();
    const store = new Proxy(own, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]): unknown => (closed ? Promise.reject(new Error('the store was closed')) : (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    const worker = await h.startWorker({ store, logger, functions: { 'o.race': () => (runs++, 'ran') }, shutdownGraceMs: 200 });
    const { id } = await h.ns.store.insert({ funcname: 'o.race' });
    // Another transaction holds the job's row, so the worker's claim waits for it.
    const holder = await h.ns.pool.connect();
    let stopped = false;
    let stopping: Promise<void> = Promise.resolve();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [id]);
      await h.publish('o.race', id);
      const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await waitFor(async () => (await h.ns.pool.query('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))', [rows[0]!.pid])).rowCount, { what: 'the claim to wait on the row lock' });
      stopping = worker.stop().then(() => {
        stopped = true;
        closed = true;
      });
      // The grace period ends with the claim still blocked (or, without waiting for it, stop() resolves).
      await waitFor(() => stopped || logger.lines.some((l) => l.message.startsWith('grace period over; waiting for claims')), { what: 'stop() to outlast its grace period' });
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    await stopping;
    expect(await h.ns.store.getJob(id)).toMatchObject({ state: 'ready', failures: 0, attempts: 1, failureLog: [] });
    expect(worker.stats()).toMatchObject({ givenBack: 1, declined: 1 });
    expect(runs).toBe(0);
  });

  it('fails, at the function’s timeout, the siblings a handler left unsettled after completing its first job, and frees the slot', async () => {
    await h.startWorker({
      functions: {
        'o.hang': {
          coalesce: { max: 10 },
          slots: 1,
          timeoutMs: 1_000,
          maxRetries: 0,
          handler: async (job) => {
            if (job.siblings.length === 0) return 'alone';
            await job.complete('first');
            // Never settles its siblings, and ignores its signal.
            await new Promise(() => undefined);
          },
        },
      },
    });
    const ids = await h.enqueue(...[1, 2, 3].map((n) => ({ funcname: 'o.hang', coalesce: 'hang.example', arg: n })));
    const jobs = await Promise.all(ids.map((id) => waitFor(h.finished(id), { what: 'the first job and its siblings to be settled', timeoutMs: 20_000 })));
    expect(jobs.filter((j) => j.state === 'completed').map((j) => j.result)).toEqual(['first']);
    const failed = jobs.filter((j) => j.state === 'failed');
    expect(failed).toHaveLength(2);
    for (const j of failed) expect(j.failureLog.map((f) => f.error)).toEqual(['timed out after 1000 ms']);
    // The one slot is free again: another job of the function runs.
    const [other] = await h.enqueue({ funcname: 'o.hang' });
    expect(await waitFor(h.finished(other!), { what: 'another job to get the slot' })).toMatchObject({ state: 'completed', result: 'alone' });
  });

  it('hands a coalescing function its siblings through the broker, each with its own outcome fenced on its own', async () => {
    const logger = captureLogger();
    let calls = 0;
    let seen: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    await h.startWorker({
      logger,
      functions: {
        'o.batch': {
          coalesce: { max: 10 },
          slots: 1,
          handler: async (job) => {
            calls++;
            seen = [job.id, ...job.siblings.map((s) => s.id)];
            started();
            await gate;
            for (const s of job.siblings) await s.complete({ sibling: s.arg });
            return { first: job.arg };
          },
        },
      },
    });
    const ids = await h.enqueue(...[1, 2, 3, 4].map((n) => ({ funcname: 'o.batch', coalesce: 'domain.example', arg: n })));
    await running;
    expect(seen.sort()).toEqual([...ids].sort());
    // One sibling is cancelled while the handler runs: only its outcome is refused.
    const [first, ...siblings] = seen as [string, ...string[]];
    const victim = siblings[1]!;
    expect(await h.ns.store.cancel(victim)).toBe(true);
    open();
    const jobs = await Promise.all(ids.map((id) => waitFor(h.finished(id), { what: 'the batch to finish' })));
    const byId = new Map(jobs.map((j) => [j.id, j]));
    expect(byId.get(first)).toMatchObject({ state: 'completed', result: { first: byId.get(first)!.arg } });
    for (const s of siblings) {
      if (s === victim) expect(byId.get(s)).toMatchObject({ state: 'cancelled' });
      else expect(byId.get(s)).toMatchObject({ state: 'completed', result: { sibling: byId.get(s)!.arg } });
    }
    expect(logger.lines.filter((l) => l.message.startsWith('outcome refused')).map((l) => l.fields.jobId)).toEqual([victim]);
    // The siblings' own messages found them finished and were dropped: one handler call for four jobs.
    await waitFor(async () => (await unacked(h.queue('o.batch'))) === 0 && (await h.broker.queueDepth('o.batch')) === 0, { what: 'the siblings’ messages to be consumed', timeoutMs: 30_000 });
    expect(calls).toBe(1);
  });

  it('acks a long job’s message early, keeps its slot taken, and requeues a delivery that waited too long for a slot', async () => {
    let now = 0;
    let peak = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const worker = await h.startWorker({
      ackLongRunningAfterMs: 300,
      functions: {
        'o.long': {
          slots: 1,
          handler: async (job) => {
            peak = Math.max(peak, ++now);
            if (job.arg === 'long') await gate;
            now--;
            return job.arg;
          },
        },
      },
    });
    const [long] = await h.enqueue({ funcname: 'o.long', arg: 'long' });
    await waitFor(async () => (await h.ns.store.getJob(long!))?.state === 'running', { what: 'the long job to start' });
    await waitFor(async () => (await unacked(h.queue('o.long'))) === 0, { what: 'the long job’s message to be acked while it runs', timeoutMs: 30_000 });
    expect((await h.ns.store.getJob(long!))?.state).toBe('running');
    const short = await h.enqueue(...[1, 2, 3].map((n) => ({ funcname: 'o.long', arg: n })));
    await waitFor(() => worker.stats().requeued >= 1, { what: 'a delivery to be given back after waiting for the slot' });
    open();
    for (const id of [long!, ...short]) expect(await waitFor(h.finished(id), { what: 'every job to complete' })).toMatchObject({ state: 'completed', failures: 0 });
    expect(peak).toBe(1);
  });

  it('rejects bad coalesce, ack and outcome grace options, naming the option', async () => {
    await expect(h.startWorker({ functions: { 'o.x': { handler: () => 1, coalesce: { max: 0 } } } })).rejects.toThrow(/functions\.o\.x\.coalesce\.max/);
    await expect(h.startWorker({ functions: { 'o.x': { handler: () => 1, coalesce: 5 as never } } })).rejects.toThrow(/functions\.o\.x\.coalesce/);
    await expect(h.startWorker({ functions: { 'o.x': () => 1 }, ackLongRunningAfterMs: 5 })).rejects.toThrow(/ackLongRunningAfterMs/);
    await expect(h.startWorker({ functions: { 'o.x': () => 1 }, outcomeGraceMs: -1 })).rejects.toThrow(/outcomeGraceMs/);
  });
});
