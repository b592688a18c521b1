/**
 * The README's first JSON-RPC call, as a newcomer makes it: `drover dev` with no services, the
 * token it keeps in its data folder, the local admin client, and @drover/rpc-client working a
 * function as a remote worker and calling it.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectApi, type RpcClient } from '@drover/rpc-client';
import { freePort, useDroverProcesses, waitFor } from '@drover/testing';

const processes = useDroverProcesses();
const clients: RpcClient[] = [];

afterAll(async () => {
  for (const c of clients) await c.close();
});


describe('the README first call', () => {
  it('drover dev serves the JSON-RPC API; the local admin token in the data folder calls a function a remote worker serves', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'drover-first-call-'));
    const port = await freePort();
    processes.start(['dev'], { DATABASE_URL: '', AMQP_URL: '', DROVER_DATA_DIR: dataDir, DROVER_HTTP_PORT: '0', DROVER_RPC_PORT: String(port), LOG_LEVEL: 'warn', DROVER_NAMESPACE: 'drover' });
    const api = await waitFor(
      async () => {
        const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
        return connectApi({ url: `tcp://127.0.0.1:${port}`, who: 'local-admin', token });
      },
      { what: 'drover dev serving JSON-RPC with its token written', timeoutMs: 60_000, intervalMs: 200 },
    );
    clients.push(api);
    await api.work('math.add', ({ a, b }) => ({ sum: Number(a) + Number(b) }), { slots: 4 });
    expect(await api.call('math.add', { a: 2, b: 3 }, { timeoutS: 30 })).toEqual({ sum: 5 });
    const id = await api.callNb('math.add', { a: 1, b: 1 });
    const status = await waitFor(async () => {
      const s = await api.getJobStatus(id);
      return s.finished ? s : null;
    }, { what: 'the callNb job finished' });
    expect(status).toEqual({ finished: true, outargs: { sum: 2 } });
    expect(await api.findJobs({ a: 1, b: 1 })).toContain(id);
  });
});
