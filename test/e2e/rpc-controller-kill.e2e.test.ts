/**
 * The controller killed with SIGKILL while remote workers hold tasks, with real processes: a
 * `drover controller` serving JSON-RPC on a fixed port, a `drover scheduler`, two remote-worker
 * processes (@drover/rpc-client's `work()`, test/fixtures/rpc-worker.ts), a JobCenter-style worker
 * on a bare connection, callers creating jobs with `callNb` before and across the kill, and `call`s
 * waiting across it. A new controller starts on the same port; the workers and callers come back
 * by themselves.
 *
 * What may run twice, and why: a task out when the controller died has a claim (a lease) in
 * PostgreSQL that nobody renews. Its worker finishes it, but the `task_done` goes to a dead
 * connection (the client drops an answer whose connection closed; a cookie lives only in the
 * memory of the controller that made it, so sent anywhere else it changes nothing). The lease runs
 * out, the scheduler takes the job back as a failed attempt (`lease expired`) and a worker runs it
 * again. So a job runs at most twice, and only a job that was running at the kill.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { LIVE_STATES, type Job } from '@drover/core';
import { CallFailedError, connectApi, type RpcClient } from '@drover/rpc-client';
import { freePort, waitFor, type DroverProcess } from '@drover/testing';
import { ScriptedWorker, connectTcpClient, type TaskScript, type TestConnection } from '../../services/controller/test/rpc-client.js';
import { startsById, useDrover } from './harness.js';

const ACTION = 'e2e.rpc_hold';
const WHO = 'e2e-rpc';
const drover = useDrover({ funcnames: [ACTION] });
/** Tasks each remote-worker process holds at once. */
const SLOTS = 4;
/** How long a task is held: long enough that every slot is busy whenever the controller is killed. */
const HOLD_MS = 150;
/**
 * Test-sized: the tasks of the killed controller come back 3 s after their last renewal, not a
 * minute. Renewed every second while the controller lives, so a stall of two seconds on a busy
 * machine would still not lose a lease before the kill (which would make an unexplained rerun).
 */
const LEASE_MS = 3_000;
const JOBS_BEFORE = 200;
/** Created one after another by each caller while the controller is killed and started again. */
const JOBS_ACROSS_PER_CALLER = 50;
/** `call`s made just before the kill, waiting for their outcome across it. */
const CALLS_ACROSS = 6;

const clients: RpcClient[] = [];
const rawConnections: TestConnection[] = [];

afterAll(async () => {
  for (const c of clients) await c.close();
  for (const c of rawConnections) c.close();
});


/** The highest session count a remote-worker process has logged (its client logs `connected` on each). */
function sessionsOf(worker: DroverProcess): number {
  let most = 0;
  for (const line of worker.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; sessions?: number };
    if (entry.msg === 'connected' && typeof entry.sessions === 'number') most = Math.max(most, entry.sessions);
  }
  return most;
}

describe('the controller killed with SIGKILL while remote workers hold tasks', () => {
  it('workers and callers reconnect by themselves, every job finishes, none is lost, and only a job held at the kill runs twice', async () => {
    const port = await freePort();
    const url = `tcp://127.0.0.1:${port}`;
    const controllerEnv = drover.env({ DROVER_RPC_PORT: String(port), DROVER_RPC_LEASE_MS: String(LEASE_MS) });
    // A lease taken back is retried ~100 ms later; no restart grace (PostgreSQL does not restart here).
    drover.processes.start(['scheduler'], drover.env({ DROVER_RETRY_BASE_MS: '100', DROVER_SCHEDULER_POLL_MS: '100', DROVER_RESTART_GRACE_MS: '0' }));
    let controller = drover.processes.start(['controller'], controllerEnv);
    const { token } = await drover.ns.store.clients.add({ who: WHO, call: [ACTION], work: [ACTION] });

    const open = (): Promise<RpcClient> =>
      waitFor(
        async () => {
          // Requests made while the API is down wait for the new controller, however slowly a busy machine starts it.
          const client = await connectApi({ url, who: WHO, token, reconnect: { minDelayMs: 50, maxDelayMs: 500 }, requestTimeoutMs: 60_000 });
          clients.push(client);
          return client;
        },
        { what: 'the controller serving JSON-RPC', timeoutMs: 30_000, intervalMs: 100 },
      );
    const callers = [await open(), await open()];

    const workers = [1, 2].map(() =>
      drover.processes.startScript('test/fixtures/rpc-worker.ts', { RPC_URL: url, RPC_WHO: WHO, RPC_TOKEN: token, RPC_ACTION: ACTION, RPC_SLOTS: String(SLOTS), E2E_RUN_LOG: drover.runLog }),
    );
    await waitFor(() => workers.every((w) => w.output().includes('"msg":"announced"')), { what: 'both remote workers to announce', timeoutMs: 30_000, intervalMs: 100 });

    // A JobCenter-style worker on a bare connection: it takes one task and never answers, keeping
    // the cookie to send after the kill. Its runs are counted here (it writes no run log).
    const rawRuns: string[] = [];
    const rawWorker = async (script: TaskScript): Promise<ScriptedWorker> => {
      const conn = await connectTcpClient(port, { answerPings: true });
      rawConnections.push(conn);
      expect((await conn.next()).method).toBe('greetings');
      expect((await conn.call('hello', { who: WHO, method: 'password', token })).result).toEqual([true, expect.any(String)]);
      const w = new ScriptedWorker(conn, (task) => {
        rawRuns.push(String(task.jobId));
        return script(task);
      });
      expect((await conn.call('announce', { workername: 'raw', actionname: ACTION, slots: 1, slotgroup: null })).result).toEqual([true, 'success']);
      return w;
    };
    let stale: { jobId: string; cookie: string } | undefined;
    await rawWorker((task) => {
      stale = { jobId: String(task.jobId), cookie: task.cookie };
      return null;
    });

    // id → the n in its inargs, for every job whose create_job answered.
    const ids = new Map<string, number>();
    let nextN = 0;
    const create = async (caller: RpcClient): Promise<void> => {
      const n = nextN++;
      ids.set(await caller.callNb(ACTION, { n, ms: HOLD_MS }), n);
    };
    await Promise.all(callers.map(async (caller) => {
      for (let i = 0; i < JOBS_BEFORE / callers.length; i++) await create(caller);
    }));

    // Well into the flow: both processes and the bare worker hold tasks, and most jobs are still to come.
    await waitFor(() => {
      const runs = drover.runs();
      const pids = new Set(runs.map((r) => r.pid));
      return stale !== undefined && workers.every((w) => pids.has(w.child.pid!)) && runs.length >= 3 * workers.length * SLOTS;
    }, { what: 'the remote workers to be running tasks', timeoutMs: 30_000 });

    // Callers keep creating across the kill: a create_job out when the connection drops rejects
    // (the job may exist), one made while the API is down waits for the reconnection.
    const failedCreates: unknown[] = [];
    let createdAcross = 0;
    const across = Promise.all(callers.map(async (caller) => {
      for (let i = 0; i < JOBS_ACROSS_PER_CALLER; i++) {
        await create(caller).then(() => createdAcross++, (err: unknown) => failedCreates.push(err));
      }
    }));
    // And calls waiting for their jobs' outcome across the kill: the client asks again after it reconnects.
    const calls = Array.from({ length: CALLS_ACROSS }, (_, i) => {
      const n = nextN++;
      return callers[i % callers.length]!.call(ACTION, { n, ms: HOLD_MS }, { timeoutS: 60 }).then(
        (outargs) => ({ n, outargs }),
        (err: unknown) => {
          failedCreates.push(err);
          return null;
        },
      );
    });
    await waitFor(() => createdAcross >= 5, { what: 'the callers to be creating jobs' });

    const callerSessions = callers.map((c) => c.status().sessions);
    controller.kill('SIGKILL');
    expect(await controller.exited).toBe('SIGKILL');
    // Nothing writes these jobs' state until their leases run out (3 s after their last renewal).
    const held = new Set((await drover.ns.store.findJobs({ funcname: ACTION, states: ['running'], limit: 1000 })).map((j) => j.id));
    expect(held.size).toBeGreaterThan(0);
    expect(held.has(stale!.jobId)).toBe(true);

    const restartedAt = Date.now();
    controller = drover.processes.start(['controller'], controllerEnv);
    await waitFor(() => workers.every((w) => sessionsOf(w) >= 2), { what: 'both remote workers to reconnect and announce again', timeoutMs: 30_000, intervalMs: 100 });
    const reconnectedMs = Date.now() - restartedAt;
    await waitFor(() => callers.every((c, i) => c.status().sessions > callerSessions[i]!), { what: 'the callers to reconnect', timeoutMs: 30_000 });

    // The bare worker comes back too, and works for real this time; first it sends the answer it
    // held, with the old cookie, while that job is still taken by the dead controller's lease.
    const back = await rawWorker((task) => ({ n: (task.inargs as { n: number }).n, by: 'raw' }));
    back.conn.notify('task_done', { cookie: stale!.cookie, outargs: { stale: true } });
    expect((await back.conn.call('ping')).result).toContain('pong');
    // And again once the job was claimed anew (or even done).
    await waitFor(async () => ((await drover.ns.store.getJob(stale!.jobId))?.attempts ?? 0) >= 2, { what: 'the held job to be claimed again', timeoutMs: 30_000 });
    back.conn.notify('task_done', { cookie: stale!.cookie, outargs: { stale: true } });
    expect((await back.conn.call('ping')).result).toContain('pong');

    await across;
    const called = (await Promise.all(calls)).filter((c) => c !== null);
    expect(called.filter((c) => c.outargs.n !== c.n)).toEqual([]);
    await waitFor(async () => (await drover.ns.store.findJobs({ funcname: ACTION, states: [...LIVE_STATES], limit: 1 })).length === 0, {
      what: 'every job to finish',
      timeoutMs: 45_000,
      intervalMs: 200,
    });

    // None lost: every job whose id a caller got is completed, with its own worker's answer.
    const done = new Map<string, Job>((await drover.ns.store.findJobs({ funcname: ACTION, states: ['completed'], limit: 1000 })).map((j) => [j.id, j]));
    expect(ids.size).toBe(JOBS_BEFORE + createdAcross);
    expect([...ids.keys()].filter((id) => !done.has(id))).toEqual([]);
    expect([...ids].filter(([id, n]) => (done.get(id)!.result as { n?: unknown }).n !== n)).toEqual([]);
    const calledIds = [...done.values()].filter((j) => called.some((c) => c.n === (j.arg as { n: number }).n)).map((j) => j.id);
    expect(calledIds).toHaveLength(called.length);
    // Nothing failed or was cancelled; the jobs beyond the ids the callers got are creates whose answer the kill cut off.
    expect((await drover.ns.store.counts()).filter((c) => c.funcname === ACTION)).toEqual([{ funcname: ACTION, state: 'completed', count: done.size }]);
    expect(done.size - ids.size - calledIds.length).toBeGreaterThanOrEqual(0);
    expect(done.size - ids.size - calledIds.length).toBeLessThanOrEqual(failedCreates.length);
    for (const err of failedCreates) {
      expect(err).toBeInstanceOf(CallFailedError);
      expect(err).toMatchObject({ sent: true, message: expect.stringMatching(/^create_job e2e\.rpc_hold: no answer came .*the job may have been created/) });
    }

    // The old cookie changed nothing: the held job was done by a worker after the restart.
    expect(done.get(stale!.jobId)!.result).not.toHaveProperty('stale');

    // Runs: once per job, twice only for a job held at the kill, whose one failure is its lease running out.
    const runs = drover.runs();
    const starts = startsById(runs);
    for (const id of rawRuns) starts.set(id, (starts.get(id) ?? 0) + 1);
    const outOfBounds = [...done.keys()].filter((id) => {
      const n = starts.get(id) ?? 0;
      return n < 1 || n > 2;
    });
    expect(outOfBounds).toEqual([]);
    const twice = [...done.keys()].filter((id) => starts.get(id) === 2);
    expect(twice.filter((id) => !held.has(id))).toEqual([]);
    // Of the twice-run, a first run came before the kill (the restart is later still).
    expect(twice.filter((id) => !runs.some((r) => r.id === id && r.at < restartedAt) && !rawRuns.includes(id))).toEqual([]);
    expect([...done.values()].filter((j) => j.failures !== (held.has(j.id) ? 1 : 0)).map((j) => j.id)).toEqual([]);
    for (const id of held) expect((await drover.ns.store.getJob(id))!.failureLog.map((f) => f.error)).toEqual(['lease expired']);

    // The worker processes never stopped: they reconnected on their own, announced again, and both worked after the restart.
    expect(workers.map((w) => w.child.exitCode)).toEqual([null, null]);
    expect(workers.map((w) => runs.some((r) => r.pid === w.child.pid && r.at > restartedAt))).toEqual([true, true]);
    console.log(
      `[e2e] controller SIGKILL with remote tasks out: ${done.size} jobs (${ids.size} callNb ids, ${called.length} calls answered, ${failedCreates.length} create_job cut off), ` +
        `${held.size} held at the kill, ${twice.length} ran twice; workers back ${reconnectedMs} ms after the new controller was spawned, all done ${Date.now() - restartedAt} ms after`,
    );
  }, 120_000);
});
