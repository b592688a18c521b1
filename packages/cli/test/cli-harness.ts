/**
 * What the CLI's integration tests share: a test namespace with an admin client, a controller's
 * HTTP API on it, and a data folder that points at that API with the client's token, as
 * `drover dev` leaves them; so a command can be run both ways the CLI reaches Drover. And `drover`
 * itself, run in-process through the command entry with its output captured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { silentLogger } from '@drover/core';
import { createHttpApi } from '@drover/controller';
import { useTestNamespace, type TestNamespace } from '@drover/testing';
import { main } from '../src/main.js';
import { writeInstance, writeLocalToken } from '../src/dev/instance.js';

export interface EmbeddedCli {
  readonly ns: TestNamespace;
  /** The data folder of the embedded instance (set once the file's beforeAll ran). */
  dataDir(): string;
  /** The two ways the CLI reaches Drover: straight on PostgreSQL, and through the embedded API. */
  readonly modes: {
    readonly postgres: () => Record<string, string>;
    readonly embedded: () => Record<string, string>;
  };
}

/** A namespace, an HTTP API on it and a data folder for it, for the test file; `who` names its admin client. */
export function useEmbeddedCli(who: string): EmbeddedCli {
  const ns = useTestNamespace();
  let app: FastifyInstance | undefined;
  let dataDir = '';
  beforeAll(async () => {
    const { token } = await ns.store.clients.add({ who, admin: true });
    app = createHttpApi({ store: ns.store, clients: ns.store.clients, logger: silentLogger });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    dataDir = mkdtempSync(join(tmpdir(), `drover-${who}-`));
    writeInstance({ pid: process.pid, url, namespace: ns.namespace, dataDir, startedAt: new Date().toISOString() });
    writeLocalToken(dataDir, token);
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    ns,
    dataDir: () => dataDir,
    modes: {
      postgres: () => ({ DATABASE_URL: ns.databaseUrl, DROVER_NAMESPACE: ns.namespace, LOG_LEVEL: 'silent' }),
      embedded: () => ({ DROVER_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
    },
  };
}

/** Runs `drover <argv>` in-process; returns its exit status and what it wrote. */
export async function runDrover(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await main(argv, env);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
