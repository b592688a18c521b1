/**
 * Presence in embedded mode: `drover dev` with no service URLs (and no Redis) keeps presence in
 * memory; `drover workers` reads it through the instance's `GET /workers` and lists the demo
 * worker and a remote JSON-RPC worker connected as the local admin, which drops off once its
 * connection closes.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LiveWorker } from '@drover/core';
import { connectApi, type RpcClient } from '@drover/rpc-client';
import { freePort, useDroverProcesses, waitFor } from '@drover/testing';

const processes = useDroverProcesses();
const clients: RpcClient[] = [];
afterAll(async () => {
  for (const c of clients) await c.close();
});

describe('drover workers against drover dev', () => {
  it('lists the embedded instance’s own worker and a remote JSON-RPC worker, from memory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'drover-presence-dev-'));
    const port = await freePort();
    const env = { DATABASE_URL: '', AMQP_URL: '', REDIS_URL: '', DROVER_DATA_DIR: dataDir, DROVER_HTTP_PORT: '0', DROVER_RPC_PORT: String(port), LOG_LEVEL: 'warn', DROVER_NAMESPACE: 'drover', DROVER_HEARTBEAT_MS: '500' };
    const dev = processes.start(['dev', '--no-demo'], env);
    const api = await waitFor(
      async () => connectApi({ url: `tcp://127.0.0.1:${port}`, who: 'local-admin', token: readFileSync(join(dataDir, 'token'), 'utf8').trim() }),
      { what: 'drover dev serving JSON-RPC with its token written', timeoutMs: 60_000, intervalMs: 200 },
    );
    clients.push(api);
    await api.work('math.add', ({ a, b }) => ({ sum: Number(a) + Number(b) }), { slots: 3 });

    const list = async (): Promise<LiveWorker[]> => {
      const out = await processes.run(['workers', '--json'], env);
      expect(out.code, out.stderr).toBe(0);
      return JSON.parse(out.stdout) as LiveWorker[];
    };
    const workers = await waitFor(async () => {
      const all = await list();
      return all.length === 2 ? all : null;
    }, { what: 'the demo worker and the remote worker listed', timeoutMs: 30_000, intervalMs: 200 });
    expect(workers.find((w) => w.kind === 'shim')).toMatchObject({ pid: dev.child.pid, client: null, functions: expect.arrayContaining(['demo.greet']) as unknown });
    expect(workers.find((w) => w.kind === 'remote')).toMatchObject({ client: 'local-admin', functions: ['math.add'], slots: 3, pid: null });

    await api.close();
    await waitFor(async () => (await list()).every((w) => w.kind === 'shim'), { what: 'the remote worker withdrawn', timeoutMs: 30_000, intervalMs: 200 });
  });
});
