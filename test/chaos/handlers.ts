/**
 * The chaos run's handlers, loaded by `drover worker test/chaos/handlers.ts`. Every run of every
 * job is recorded in an append-only file per process ($CHAOS_RUN_DIR/runs-<pid>.log): a line when
 * the handler starts and one when it ends. Appends are synchronous, so a line written before a
 * kill -9 is in the file; a file survives a PostgreSQL outage that a table would not.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionOptions, Handler } from '@drover/worker';

/** The one function of the chaos stream. */
export const CHAOS_FUNCNAME = 'chaos.work';
/**
 * Short, so that a job whose worker died or was cut off comes back within seconds, and long
 * enough (the worker renews at a fraction of it) that a healthy worker never loses one.
 */
export const CHAOS_LEASE_MS = 3_000;

const file = process.env.CHAOS_RUN_DIR ? join(process.env.CHAOS_RUN_DIR, `runs-${process.pid}.log`) : null;

/** `S` (start) or `E` (end), job id, attempt, pid, epoch ms. */
function record(kind: 'S' | 'E', id: string, attempt: number): void {
  if (file) appendFileSync(file, `${kind} ${id} ${attempt} ${process.pid} ${Date.now()}\n`);
}

export const functions: Record<string, Handler | FunctionOptions> = {
  /** Works for arg.ms (ignoring aborts, as a careless handler would), and returns who ran it. */
  [CHAOS_FUNCNAME]: {
    handler: async (job) => {
      record('S', job.id, job.attempt);
      const { ms } = job.arg as { ms: number };
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
      record('E', job.id, job.attempt);
      return { pid: process.pid, attempt: job.attempt };
    },
    slots: 8,
    leaseMs: CHAOS_LEASE_MS,
  },
};
