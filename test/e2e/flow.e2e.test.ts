/**
 * Jobs flowing through real processes: `drover up` (controller + scheduler) and `drover worker`
 * against the real PostgreSQL and RabbitMQ.
 */
import amqp from 'amqplib';
import pg from 'pg';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { exchangeName } from '@drover/broker';
import { waitFor, type DroverProcess } from '@drover/testing';
import { startsById, useDrover } from './harness.js';

const drover = useDrover();
const workers: DroverProcess[] = [];

beforeAll(async () => {
  drover.startUp();
  workers.push(drover.startWorker(), drover.startWorker());
  // Ready when a job makes the round trip.
  const { id } = await drover.client.enqueue({ funcname: 'e2e.double', arg: { n: 0 } });
  await waitFor(async () => (await drover.client.getJob(id))?.state === 'completed', { what: 'the processes to come up', timeoutMs: 30_000 });
});

describe('end to end', () => {
  it('completes 10,000 jobs, each exactly once, with results readable through the client and the CLI', async () => {
    const before = drover.runs().length;
    const started = Date.now();
    const ids: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const results = await drover.client.enqueueMany(Array.from({ length: 1000 }, (_, i) => ({ funcname: 'e2e.double', arg: { n: batch * 1000 + i } })));
      ids.push(...results.map((r) => r.id));
    }
    const enqueuedMs = Date.now() - started;
    await waitFor(async () => {
      const completed = (await drover.client.counts()).find((c) => c.funcname === 'e2e.double' && c.state === 'completed');
      return (completed?.count ?? 0) >= 10_001;
    }, { what: '10,000 completions', timeoutMs: 120_000, intervalMs: 250 });
    const elapsedMs = Date.now() - started;

    const starts = startsById(drover.runs().slice(before));
    expect(starts.size).toBe(10_000);
    expect([...starts.values()].every((n) => n === 1)).toBe(true);
    expect(ids.every((id) => starts.has(id))).toBe(true);

    const sample = ids[4321]!;
    expect(await drover.client.getJob(sample)).toMatchObject({ state: 'completed', result: { doubled: 8642 }, attempts: 1 });
    const cli = await drover.processes.run(['show', sample, '--json'], drover.env());
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ id: sample, state: 'completed', result: { doubled: 8642 } });
    console.log(`[e2e] 10,000 jobs: enqueued in ${enqueuedMs} ms, all completed after ${elapsedMs} ms (${Math.round(10_000_000 / elapsedMs)} jobs/s, 2 workers x 16 slots)`);
  });

  it('runs the handler once for a duplicated message', async () => {
    const { id } = await drover.client.enqueue({ funcname: 'e2e.sleep', arg: { ms: 300 } });
    const raw = await amqp.connect(inject('droverServices').amqpUrl);
    const channel = await raw.createConfirmChannel();
    for (let i = 0; i < 3; i++) channel.publish(exchangeName(drover.ns.namespace), 'e2e.sleep', Buffer.from(id), { persistent: true });
    await channel.waitForConfirms();
    await waitFor(async () => (await drover.client.getJob(id))?.state === 'completed', { what: 'the job' });
    // Duplicates that arrive after completion must be dropped too.
    channel.publish(exchangeName(drover.ns.namespace), 'e2e.sleep', Buffer.from(id), { persistent: true });
    await channel.waitForConfirms();
    await raw.close();
    const { id: marker } = await drover.client.enqueue({ funcname: 'e2e.sleep', arg: { ms: 1 } });
    await waitFor(async () => (await drover.client.getJob(marker))?.state === 'completed', { what: 'a later job' });
    expect(drover.runs().filter((r) => r.id === id)).toHaveLength(1);
  });

  it('retries a throwing handler on its retry delay, then fails it with every attempt logged', async () => {
    const { id } = await drover.client.enqueue({ funcname: 'e2e.throws' });
    const job = await waitFor(async () => {
      const j = await drover.client.getJob(id);
      return j?.state === 'failed' ? j : null;
    }, { what: 'the job to fail for good', timeoutMs: 30_000 });
    expect(job.failures).toBe(4);
    expect(job.failureLog.map((f) => f.error.split('\n')[0])).toEqual([1, 2, 3, 4].map((n) => `Error: attempt ${n} failed`));
    const starts = drover.runs().filter((r) => r.id === id).map((r) => r.at);
    expect(starts).toHaveLength(4);
    // e2e.throws retries after 200 ms (±10 % jitter): no attempt may come sooner.
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(180);
  });

  it('does not start a job before its run_after, and starts it within a second after', async () => {
    const runAfter = new Date(Date.now() + 2000);
    const { id } = await drover.client.enqueue({ funcname: 'e2e.double', arg: { n: 1 }, runAfter });
    await waitFor(() => drover.runs().some((r) => r.id === id), { what: 'the delayed job to start', timeoutMs: 10_000 });
    const startedAt = drover.runs().find((r) => r.id === id)!.at;
    expect(startedAt).toBeGreaterThanOrEqual(runAfter.getTime());
    expect(startedAt - runAfter.getTime()).toBeLessThan(1000);
  });

  it("returns the handler's result from call, and runs nothing enqueued in a rolled-back transaction", async () => {
    expect(await drover.client.call({ funcname: 'e2e.double', arg: { n: 21 } }, { timeoutMs: 10_000 })).toEqual({ doubled: 42 });
    const pool = new pg.Pool({ connectionString: drover.ns.databaseUrl, max: 1 });
    const db = await pool.connect();
    let ghost: string;
    try {
      await db.query('BEGIN');
      ghost = (await drover.client.enqueue({ funcname: 'e2e.double', arg: { n: 666 } }, { tx: db })).id;
      await db.query('ROLLBACK');
    } finally {
      db.release();
      await pool.end();
    }
    // A job enqueued after it completes; by then the ghost would have run too.
    expect(await drover.client.call({ funcname: 'e2e.double', arg: { n: 1 } }, { timeoutMs: 10_000 })).toEqual({ doubled: 2 });
    expect(await drover.client.getJob(ghost)).toBeNull();
    expect(drover.runs().some((r) => r.id === ghost)).toBe(false);
  });

  it('drops messages that are not Drover job ids, logging them, without crashing a worker', async () => {
    const raw = await amqp.connect(inject('droverServices').amqpUrl);
    const channel = await raw.createConfirmChannel();
    for (const body of ['garbage', '{"id":"1"}', '', '18446744073709551616', '424242424242']) {
      for (let i = 0; i < 3; i++) channel.publish(exchangeName(drover.ns.namespace), 'e2e.double', Buffer.from(body), { persistent: true });
    }
    await channel.waitForConfirms();
    await raw.close();
    const { id } = await drover.client.enqueue({ funcname: 'e2e.double', arg: { n: 5 } });
    await waitFor(async () => (await drover.client.getJob(id))?.state === 'completed', { what: 'a real job after the garbage' });
    await waitFor(() => workers.some((w) => w.output().includes('dropping a message that is not a Drover job id')), { what: 'the log line' });
    expect(workers.map((w) => w.child.exitCode)).toEqual([null, null]);
  });
});
