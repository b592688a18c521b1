/**
 * Fault injection on the local Redis: stop it and start it again. A test that calls this must run
 * under `flock -x /tmp/drover-svc.lock` (other engineers' tests share the server), and the server
 * is started again in a `finally`, pass or fail, with the same flags it runs with on this machine.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { reachable } from './services.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

/** How this machine runs Redis: no persistence, so a restart loses every key, as a lost Redis would. */
const REDIS_SERVER_ARGS = ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log'];
const LOCAL_REDIS = 'redis://127.0.0.1:6379';
/** Redis starts in milliseconds; a busy machine gets ample room. */
const START_TIMEOUT_MS = 30_000;

/** Stops the local Redis (`SHUTDOWN NOSAVE`), runs `fn`, and always starts it again and waits until it answers. */
export async function withRedisStopped<T>(fn: () => Promise<T>): Promise<T> {
  // SHUTDOWN closes the connection that sent it, so redis-cli exits non-zero on success.
  await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'shutdown', 'nosave']).catch(() => undefined);
  try {
    await waitFor(async () => !(await reachable(LOCAL_REDIS, 6379)), { timeoutMs: START_TIMEOUT_MS, what: 'Redis to stop' });
    return await fn();
  } finally {
    await run('redis-server', REDIS_SERVER_ARGS);
    await waitFor(async () => (await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'ping'])).stdout.trim() === 'PONG', { timeoutMs: START_TIMEOUT_MS, what: 'Redis to answer PING' });
  }
}
