// Stops and starts PostgreSQL: run under the exclusive lock (flock -x -o /tmp/drover-svc.lock npx vitest run …).
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Logger } from '@drover/core';
import { reachable, waitFor } from '@drover/testing';
import { captureLogger } from './capture-logger.js';
import { useWorkerHarness } from './harness.js';

const h = useWorkerHarness();
const run = promisify(execFile);
const cluster = (action: 'stop' | 'start'): Promise<unknown> =>
  run('pg_ctlcluster', ['--skip-systemctl-redirect', readdirSync('/etc/postgresql')[0]!, 'main', action, ...(action === 'stop' ? ['-m', 'fast'] : [])], { timeout: 60_000 });

const LEASE_MS = 10_000;
/**
 * When PostgreSQL is started again after the handler finished. A start takes about 2.4 s here, so
 * the database is back at about 7.9 s: after the outcome write's retry at 6.35 s (its next is at
 * 11.35 s, past the 10 s lease), so that the write alone comes too late, and early enough that a
 * renewal (retried every second) lands before the lease ends: an outage shorter than the lease.
 */
const OUTAGE_MS = 5500;
/**
 * For the outage longer than the job's lease: a 3 s lease ends about 3 s after the handler
 * finished, and the database is stopped 6 s, so back at about 8.5 s: well past the lease, well
 * within the store's 30 s restart grace, during which the scheduler leaves that lease alone.
 */
const SHORT_LEASE_MS = 3_000;
const LONG_OUTAGE_MS = 6_000;

/**
 * Runs one job whose handler finishes right after PostgreSQL is stopped, keeps the database down
 * `outageMs` from then, starts it again, and sweeps expired leases (as the scheduler would) until
 * the job is completed or taken back. Returns the job, the handler's runs and the worker.
 */
async function finishDuringOutage(funcname: string, leaseMs: number, outageMs: number, result: string, options: { logger?: Logger; sweepForMs: number; sweepEveryMs: number }) {
  let runs = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const worker = await h.startWorker({
    ...(options.logger ? { logger: options.logger } : {}),
    functions: {
      [funcname]: {
        handler: async (job) => {
          runs++;
          // A fresh lease, so the lease ends leaseMs from here unless something renews it.
          await job.heartbeat();
          started();
          await finished;
          return result;
        },
        leaseMs,
      },
    },
  });
  const [id] = await h.enqueue({ funcname });
  await running;
  let finishedAt = 0;
  try {
    await cluster('stop');
    finish();
    finishedAt = performance.now();
    await waitFor(() => performance.now() - finishedAt >= outageMs, { what: 'the outage to last its length', intervalMs: 50 });
  } finally {
    await cluster('start').catch(() => undefined);
    await waitFor(() => reachable(h.ns.databaseUrl, 5432), { what: 'PostgreSQL to accept connections', timeoutMs: 60_000 });
  }
  const backAt = performance.now();
  // The sweep of a production scheduler, with the store's default restart grace that these tests rely on.
  const scheduler = h.ns.createStore({ restartGraceMs: 30_000 });
  const job = await waitFor(async () => {
    await scheduler.expireLeases();
    const j = await h.ns.store.getJob(id!);
    return j && (j.state === 'completed' || j.failures > 0) ? j : null;
  }, { what: 'the job to be completed or taken back', timeoutMs: options.sweepForMs, intervalMs: options.sweepEveryMs });
  process.stdout.write(`[measure] lease ${leaseMs} ms; back ${Math.round(backAt - finishedAt)} ms after the handler finished; outcome written ${Math.round(performance.now() - backAt)} ms after that\n`);
  return { job, runs, worker };
}

describe('worker across a PostgreSQL outage', () => {
  it('keeps renewing the lease of a job that finished during the outage, writes its outcome once the database is back, and never runs it again', async () => {
    // The scheduler's sweep runs as soon as the database is back, and keeps running.
    const { job, runs, worker } = await finishDuringOutage('r.finish', LEASE_MS, OUTAGE_MS, 'done during the outage', { sweepForMs: 30_000, sweepEveryMs: 50 });
    expect(job).toMatchObject({ state: 'completed', result: 'done during the outage', failures: 0, attempts: 1 });
    expect(runs).toBe(1);
    expect(worker.stats()).toMatchObject({ completed: 1, fenced: 0 });
  });

  it('keeps writing, past the end of its lease, the outcome of a job that finished before an outage longer than its lease, and never runs it again', async () => {
    const logger = captureLogger();
    // Long enough for the scheduler to take the job back after its 30 s restart grace, had the worker dropped the outcome.
    const { job, runs, worker } = await finishDuringOutage('r.long', SHORT_LEASE_MS, LONG_OUTAGE_MS, 'done before the lease ran out', { logger, sweepForMs: 50_000, sweepEveryMs: 100 });
    expect(job).toMatchObject({ state: 'completed', result: 'done before the lease ran out', failures: 0, attempts: 1 });
    expect(runs).toBe(1);
    expect(worker.stats()).toMatchObject({ completed: 1, fenced: 0 });
    // The lease did run out on the worker's clock during the outage, with the outcome unwritten.
    expect(logger.lines.filter((l) => l.message.startsWith('lease ran out while the outcome was being written'))).toHaveLength(1);
  });
});
