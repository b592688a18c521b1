/**
 * What every end-to-end file needs: a namespace, `drover` processes pointed at it, a client, the
 * handlers' run log, and the broker's queues removed afterwards.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { deleteBrokerNamespace } from '@drover/broker';
import { createClient, type Client } from '@drover/client';
import { useDroverProcesses, useTestNamespace } from '@drover/testing';

/** The functions test/fixtures/handlers.ts defines. */
export const FUNCNAMES = ['e2e.double', 'e2e.sleep', 'e2e.throws', 'e2e.event'];

export interface RunRecord {
  at: number;
  pid: number;
  funcname: string;
  id: string;
}

/** `funcnames`: functions besides {@link FUNCNAMES} whose queues the file uses (removed afterwards too). */
export function useDrover(options: { funcnames?: string[] } = {}) {
  const queues = [...FUNCNAMES, ...(options.funcnames ?? [])];
  const ns = useTestNamespace();
  const processes = useDroverProcesses();
  const runLog = join(processes.logDir, 'runs.log');
  let client: Client | undefined;

  beforeAll(() => {
    writeFileSync(runLog, '');
    client = createClient({ store: ns.store });
  });

  afterAll(async () => {
    await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, funcnames: queues });
  });

  /** The environment of every process: this file's namespace, quiet logs, an ephemeral API port. */
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    DATABASE_URL: inject('droverServices').databaseUrl,
    AMQP_URL: inject('droverServices').amqpUrl,
    DROVER_NAMESPACE: ns.namespace,
    DROVER_HTTP_PORT: '0', DROVER_RPC_PORT: '0',
    LOG_LEVEL: 'warn',
    E2E_RUN_LOG: runLog,
    ...extra,
  });

  return {
    ns,
    processes,
    env,
    /** The file every handler start is appended to (`at pid funcname id`), for processes started without {@link env}. */
    runLog,
    get client(): Client {
      return client!;
    },
    /** Every handler start so far, across processes. */
    runs(): RunRecord[] {
      return readFileSync(runLog, 'utf8').split('\n').filter(Boolean).map((line) => {
        const [at, pid, funcname, id] = line.split(' ');
        return { at: Number(at), pid: Number(pid), funcname: funcname!, id: id! };
      });
    },
    startUp: (extra?: Record<string, string>) => processes.start(['up'], env(extra)),
    startWorker: (extra?: Record<string, string>) => processes.start(['worker', 'test/fixtures/handlers.ts'], env(extra)),
  };
}

/** Counts handler starts per job id. */
export function startsById(runs: RunRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
  return counts;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
