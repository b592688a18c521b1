/**
 * Worker presence on the real services: three `drover worker` processes report to Redis and
 * `drover workers` lists them; one killed with SIGKILL (no withdraw) drops off within two
 * heartbeats; a remote JSON-RPC worker connected to `drover up` is listed as one too, with its
 * client's name, and `GET /workers` shows the same to an admin client only.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { LiveWorker } from '@drover/core';
import { createRedisPresence } from '@drover/presence';
import { connectApi, type RpcClient } from '@drover/rpc-client';
import { freePort, waitFor } from '@drover/testing';
import { useDrover } from './harness.js';

/** Short, so the test waits seconds, not the default 10 s; long enough that a busy machine does not miss beats. */
const HEARTBEAT_MS = 1_000;
const drover = useDrover();
const redisUrl = inject('droverServices').redisUrl;
const presence = createRedisPresence({ url: redisUrl, namespace: drover.ns.namespace });
const rpcClients: RpcClient[] = [];

afterAll(async () => {
  for (const c of rpcClients) await c.close();
  await presence.close();
});

const env = (extra: Record<string, string> = {}): Record<string, string> => drover.env({ REDIS_URL: redisUrl, DROVER_HEARTBEAT_MS: String(HEARTBEAT_MS), ...extra });

async function cliWorkers(): Promise<LiveWorker[]> {
  const { code, stdout, stderr } = await drover.processes.run(['workers', '--json'], env());
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as LiveWorker[];
}

describe('drover workers', () => {
  it('lists three worker processes, then two within two heartbeats of one being killed', async () => {
    const workers = [0, 1, 2].map(() => drover.processes.start(['worker', 'test/fixtures/handlers.ts'], env()));
    const pids = workers.map((w) => w.child.pid!);
    await waitFor(async () => (await presence.list()).length === 3, { timeoutMs: 60_000, intervalMs: 100, what: 'three workers announced' });

    const listed = await cliWorkers();
    expect(listed.map((w) => w.pid).sort()).toEqual([...pids].sort());
    for (const w of listed) {
      expect(w).toMatchObject({ kind: 'shim', client: null, functions: ['e2e.double', 'e2e.event', 'e2e.inc', 'e2e.sleep', 'e2e.throws'], running: 0 });
      expect(w.slots).toBeGreaterThan(0);
    }
    const table = await drover.processes.run(['workers'], env());
    for (const pid of pids) expect(table.stdout).toContain(String(pid));

    const victim = workers[1]!;
    // Its record expires two heartbeats after its last beat, which came before the kill.
    victim.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();
    await waitFor(async () => (await presence.list()).length === 2, { timeoutMs: 10_000, intervalMs: 50, what: 'the killed worker to drop off' });
    // Two heartbeats, and a little for this test's own polling and a loaded machine.
    expect(Date.now() - killedAt).toBeLessThanOrEqual(2 * HEARTBEAT_MS + 500);
    expect((await cliWorkers()).map((w) => w.pid).sort()).toEqual([pids[0], pids[2]].sort());
  });

  it('lists a remote JSON-RPC worker connected to the controller, and GET /workers shows it to an admin only', async () => {
    const port = await freePort();
    const up = drover.processes.start(['up'], env({ DROVER_RPC_PORT: String(port), LOG_LEVEL: 'info' }));
    const { token } = await drover.ns.store.clients.add({ who: 'perl-box', work: ['e2e.remote'] });
    const api = await waitFor(() => connectApi({ url: `tcp://127.0.0.1:${port}`, who: 'perl-box', token }), { timeoutMs: 60_000, intervalMs: 200, what: 'the controller serving JSON-RPC' });
    rpcClients.push(api);
    await api.work('e2e.remote', () => ({}), { slots: 3 });

    const remote = await waitFor(async () => (await cliWorkers()).find((w) => w.kind === 'remote'), { timeoutMs: 20_000, intervalMs: 200, what: 'the remote worker listed' });
    expect(remote).toMatchObject({ kind: 'remote', client: 'perl-box', pid: null, functions: ['e2e.remote'], slots: 3, running: 0, host: '127.0.0.1' });

    // The HTTP API: the controller's URL is in its log line.
    const url = await waitFor(() => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(up.output())?.[1], { timeoutMs: 60_000, intervalMs: 200, what: 'the controller API URL in its log' });
    const admin = await drover.ns.store.clients.add({ who: 'ops', admin: true });
    const asAdmin = await fetch(`${url}/workers`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(asAdmin.status).toBe(200);
    expect(((await asAdmin.json()) as LiveWorker[]).map((w) => w.client)).toContain('perl-box');
    const asWorker = await fetch(`${url}/workers`, { headers: { authorization: `Bearer ${token}` } });
    expect(asWorker.status).toBe(403);

    // A connection that closes withdraws its record at once, not after its TTL.
    await api.close();
    await waitFor(async () => !(await presence.list()).some((w) => w.kind === 'remote'), { timeoutMs: HEARTBEAT_MS, intervalMs: 50, what: 'the remote worker withdrawn on close' });
  });
});
