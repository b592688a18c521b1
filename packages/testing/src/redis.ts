/**
 * Fault injection on the local Redis: stop it, and always start it again. The caller runs under
 * `flock -x /tmp/drover-svc.lock` (the whole test file), since every other test shares this Redis.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { waitFor } from './wait.js';
import { reachable } from './services.js';

const run = promisify(execFile);

/** The local Redis's own configuration, as the machine's service starts it: restarted exactly so. */
const REDIS_SERVER_ARGS = ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log'];

/** Stops the local Redis at `url` (its data is disposable), runs `fn`, and always starts Redis again and waits for it. */
export async function withRedisStopped<T>(url: string, fn: () => Promise<T>): Promise<T> {
  const { hostname, port } = new URL(url);
  const cli = ['-h', hostname, '-p', port || '6379'];
  await run('redis-cli', [...cli, 'shutdown', 'nosave']).catch((err: unknown) => {
    // redis-cli reports the dropped connection of a successful shutdown as an error on some versions.
    if (!/connection|closed/i.test((err as Error).message)) throw err;
  });
  await waitFor(async () => !(await reachable(url, 6379)), { what: 'Redis to stop' });
  try {
    return await fn();
  } finally {
    await run('redis-server', REDIS_SERVER_ARGS);
    await waitFor(async () => (await run('redis-cli', [...cli, 'ping'])).stdout.trim() === 'PONG', { what: 'Redis to start again', timeoutMs: 30_000 });
  }
}
