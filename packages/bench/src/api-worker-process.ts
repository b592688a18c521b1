/**
 * A benchmark process of remote workers: `connections` JSON-RPC connections to the API, each
 * working `funcname` with `slots` slots and a no-op handler, as a remote worker service would.
 * It runs apart from the benchmark and the controller, so that neither pays for its CPU.
 * argv: <funcname> <connections> <slots>; the API's address and credentials come in BENCH_API
 * (JSON), so that the token is not shown in the process list.
 *
 * IPC: sends `ready` once every connection has announced (the controller then consumes for it);
 * on `stop`, closes every connection and answers `stopped` with the number of tasks it ran.
 */
import { connectApi, type RpcClient } from '@drover/rpc-client';
import type { ApiCredentials } from './system.js';

const [funcname = '', connectionsText = '', slotsText = ''] = process.argv.slice(2);
const credentials = JSON.parse(process.env.BENCH_API ?? '{}') as ApiCredentials;

let tasks = 0;
const clients: RpcClient[] = [];
for (let i = 0; i < Number(connectionsText); i++) {
  // A dropped connection fails the run rather than reconnecting: a benchmark measures, it does not ride out faults.
  const client = await connectApi({ ...credentials, reconnect: false });
  clients.push(client);
  await client.work(funcname, () => void tasks++, { slots: Number(slotsText), workername: `bench-${i + 1}` });
}
process.send!({ type: 'ready' });

process.on('message', (message: { type: string }) => {
  if (message.type !== 'stop') return;
  void (async () => {
    for (const client of clients) await client.close();
    process.send!({ type: 'stopped', tasks }, () => process.exit(0));
  })().catch((err: unknown) => {
    // The parent waits for 'stopped' or this process's exit: exiting with a failure status tells it.
    process.stderr.write(`bench api worker: stopping failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
});
