/**
 * The caller's methods on the embedded stack (`drover dev`): PGlite's in-process LISTEN carries the
 * completions, the in-memory broker the jobs. create_job → result → job_done, and get_job_status
 * with notify, as on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker } from '@drover/broker';
import { createPgliteStore, type PgliteJobStore } from '@drover/store-pglite';
import { createWorker, type Worker } from '@drover/worker';
import { createController, type Controller } from '../src/index.js';
import { connectTcpClient, type TestConnection } from './rpc-client.js';

let store: PgliteJobStore;
let controller: Controller;
let worker: Worker;
let conn: TestConnection;

beforeAll(async () => {
  store = await createPgliteStore({ namespace: 'embedded_calls' });
  const broker = new MemoryBroker();
  const { token } = await store.clients.add({ who: 'dev', call: ['calc.*'] });
  controller = createController({ store, clients: store.clients, broker, http: false, relay: { sweepMs: 100 }, rpc: { tcp: { port: 0 } } });
  await controller.start();
  worker = createWorker({ store, broker, functions: { 'calc.add': async (job) => ({ sum: (job.arg as { a: number; b: number }).a + (job.arg as { a: number; b: number }).b }) } });
  await worker.start();
  conn = await connectTcpClient(controller.rpcAddresses!.tcp!.port, { answerPings: true });
  await conn.next();
  expect(((await conn.call('hello', { who: 'dev', method: 'password', token })).result as unknown[])[0]).toBe(true);
});

afterAll(async () => {
  conn?.close();
  await worker?.stop();
  await controller?.stop();
  await store?.close();
});

async function jobDone(): Promise<unknown> {
  for (;;) {
    const m = await conn.next(15_000);
    if (m.method === 'job_done') return m.params;
  }
}

describe('calls on the embedded store', () => {
  it('answers create_job, then sends job_done', async () => {
    const [jobId] = (await conn.call('create_job', { wfname: 'calc.add', inargs: { a: 20, b: 22 }, vtag: null, timeout: 30 })).result as [number];
    expect(await jobDone()).toEqual({ job_id: jobId, outargs: { sum: 42 } });
  });

  it('sends job_done after get_job_status with notify', async () => {
    const waiting = await store.insertFor('dev', { funcname: 'calc.idle', arg: {} });
    expect((await conn.call('get_job_status', { job_id: waiting.id, notify: true })).result).toEqual([null, null]);
    await store.cancel(waiting.id);
    expect(await jobDone()).toEqual({ job_id: Number(waiting.id), outargs: { error: 'cancelled' } });
  });
});
