/**
 * The worker shim reports itself to presence (here the real Redis): announced once it consumes,
 * with its functions and slots, its running jobs refreshed on every heartbeat, withdrawn on stop.
 */
import { hostname } from 'node:os';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createRedisPresence } from '@drover/presence';
import { waitFor } from '@drover/testing';
import { useWorkerHarness } from './harness.js';

const h = useWorkerHarness();
const presence = createRedisPresence({ url: inject('droverServices').redisUrl, namespace: h.ns.namespace });
afterAll(() => presence.close());

describe('worker presence', () => {
  it('announces itself on start, shows the jobs it runs now, and withdraws on stop', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const worker = await h.startWorker({
      workerId: 'presence-probe',
      functions: { 'p.hold': { handler: () => held, slots: 3 }, 'p.other': { handler: () => null, group: 'g' } },
      slotGroups: { g: 2 },
      presence: { presence, heartbeatMs: 100 },
    });
    const [listed] = await waitFor(async () => {
      const all = await presence.list();
      return all.length === 1 ? all : null;
    }, { what: 'the worker to be announced' });
    expect(listed).toMatchObject({ id: 'presence-probe', kind: 'shim', client: null, host: hostname(), pid: process.pid, functions: ['p.hold', 'p.other'], slots: 5, running: 0 });
    expect(listed!.version).toMatch(/^\d+\.\d+\.\d+/);

    const [id] = await h.enqueue({ funcname: 'p.hold' });
    await waitFor(async () => (await presence.list())[0]?.running === 1, { what: 'a heartbeat showing the running job' });
    release();
    await waitFor(h.finished(id!), { what: 'the held job to finish' });
    await waitFor(async () => (await presence.list())[0]?.running === 0, { what: 'a heartbeat showing no job running' });

    await worker.stop();
    expect(await presence.list()).toEqual([]);
  });

  it('refuses a heartbeat interval out of range, naming the option', async () => {
    await expect(h.startWorker({ functions: { 'p.bad': () => null }, presence: { presence, heartbeatMs: 5 } })).rejects.toThrow(/^presence\.heartbeatMs: /);
  });
});
