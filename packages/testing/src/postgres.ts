/**
 * Fault injection on the local PostgreSQL: a real restart of the cluster through pg_ctlcluster,
 * or a stop for the length of a callback. The cluster is always started again, pass or fail.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { reachable } from './services.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

/** The Debian cluster version on this machine, e.g. `15`. */
function clusterVersion(): string {
  const version = readdirSync('/etc/postgresql')[0];
  if (!version) throw new Error('these fault tests need a Debian PostgreSQL cluster on this machine (/etc/postgresql)');
  return version;
}

/** pg_ctlcluster waits for the server; a minute covers a busy machine's checkpoint at stop. */
const CTL_TIMEOUT_MS = 60_000;

/** Restarts the local cluster; resolves once it accepts connections again. */
export async function restartDatabase(databaseUrl: string): Promise<void> {
  const version = readdirSync('/etc/postgresql')[0];
  if (!version) throw new Error('restartDatabase needs a Debian PostgreSQL cluster on this machine (/etc/postgresql)');
  try {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart', '-m', 'fast'], { timeout: 60_000 });
  } finally {
    if (!(await reachable(databaseUrl, 5432))) {
      await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { timeout: 60_000 }).catch(() => undefined);
    }
  }
  await waitFor(() => reachable(databaseUrl, 5432), { what: 'PostgreSQL to accept connections', timeoutMs: 60_000 });
}

/**
 * Stops the local cluster (fast: sessions are cut), runs `fn`, and always starts it again,
 * resolving once it accepts connections, pass or fail.
 */
export async function withDatabaseStopped<T>(databaseUrl: string, fn: () => Promise<T>): Promise<T> {
  const version = clusterVersion();
  try {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'stop', '-m', 'fast'], { timeout: CTL_TIMEOUT_MS });
    return await fn();
  } finally {
    if (!(await reachable(databaseUrl, 5432))) {
      await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { timeout: CTL_TIMEOUT_MS });
    }
    await waitFor(() => reachable(databaseUrl, 5432), { what: 'PostgreSQL to accept connections', timeoutMs: CTL_TIMEOUT_MS });
  }
}
