/**
 * The worker package's version, as presence reports it, read from its package.json (one file
 * for the sources and the build, which sit at the same depth below the package root).
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    // src/internal/version.ts and dist/internal/version.js are both two folders below the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    // A bundler that moved this file: presence shows "unknown" rather than the worker failing to start.
    return 'unknown';
  }
}

export const WORKER_VERSION = readVersion();
