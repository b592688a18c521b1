/**
 * `drover workers`: the live worker processes, from presence. With REDIS_URL, read from Redis
 * directly; without it and without DATABASE_URL, through the embedded instance's `GET /workers`
 * (its presence lives in its process). A worker drops off two missed heartbeats after it vanished.
 */
import { ValidationError, formatTable, type LiveWorker, type Presence } from '@drover/core';
import { HttpWorkerList } from '@drover/client';
import { createRedisPresence } from '@drover/presence';
import type { Config } from '../config.js';
import { printJson } from '../output.js';
import { embeddedApi } from './jobs.js';

/** The registry to read: Redis, or the embedded instance; an error naming REDIS_URL when services are configured without it. */
function workerList(config: Config): Pick<Presence, 'list' | 'close'> {
  if (config.REDIS_URL) return createRedisPresence({ url: config.REDIS_URL, namespace: config.DROVER_NAMESPACE, connectionName: 'drover-cli' });
  if (config.DATABASE_URL) throw new ValidationError('REDIS_URL', 'is not set; `drover workers` reads worker presence from Redis (the workers report there when they have REDIS_URL too)');
  const { url, token } = embeddedApi(config);
  const http = new HttpWorkerList(url, token === undefined ? {} : { token });
  return { list: () => http.list(), close: () => Promise.resolve() };
}

export function workersTable(workers: LiveWorker[], now: Date): string {
  if (workers.length === 0) return 'no live workers';
  const ago = (d: Date): string => `${Math.max(0, Math.round((now.getTime() - d.getTime()) / 1000))}s ago`;
  return formatTable(
    ['id', 'kind', 'client', 'host', 'pid', 'functions', 'running', 'version', 'started', 'seen'],
    workers.map((w) => [w.id, w.kind, w.client ?? '-', w.host, w.pid === null ? '-' : String(w.pid), w.functions.join(',') || '-', `${w.running}/${w.slots}`, w.version, w.startedAt.toISOString(), ago(w.seenAt)]),
  );
}

export async function workersCommand(config: Config, json: boolean): Promise<void> {
  const registry = workerList(config);
  try {
    const workers = await registry.list();
    if (json) printJson(workers);
    else process.stdout.write(`${workersTable(workers, new Date())}\n`);
  } finally {
    await registry.close();
  }
}
