/**
 * Fault injection on the local RabbitMQ through rabbitmqctl: drop chosen connections, or stop and
 * start the broker application. Every caller restores what it broke (see withBrokerStopped).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** rabbitmqctl boots an Erlang VM per call: a few seconds when the machine is busy. */
const CTL_TIMEOUT_MS = 60_000;

async function ctl(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('rabbitmqctl', [...args, '-q'], { timeout: CTL_TIMEOUT_MS });
    return stdout;
  } catch (err) {
    throw new Error(`rabbitmqctl ${args.join(' ')} failed; these fault tests need the broker on this machine (${(err as Error).message})`, { cause: err });
  }
}

/** Closes every connection whose client gave this connection_name; returns how many. */
export async function closeBrokerConnections(connectionName: string): Promise<number> {
  const out = await ctl('list_connections', 'pid', 'client_properties', '--no-table-headers');
  const pids = out
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${connectionName}"}`))
    .map((line) => line.split('\t')[0]!)
    .filter(Boolean);
  for (const pid of pids) await ctl('close_connection', pid, 'drover fault test');
  return pids.length;
}

/** Stops the RabbitMQ application (connections drop, durable queues stay), runs `fn`, and always starts it again. */
export async function withBrokerStopped<T>(fn: () => Promise<T>): Promise<T> {
  await ctl('stop_app');
  try {
    return await fn();
  } finally {
    await ctl('start_app');
    await ctl('await_startup');
  }
}
