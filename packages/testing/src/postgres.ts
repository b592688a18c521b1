/**
 * Fault injection on the local PostgreSQL: a real restart of the cluster through pg_ctlcluster.
 * The cluster is always started again, pass or fail.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { reachable } from './services.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

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
