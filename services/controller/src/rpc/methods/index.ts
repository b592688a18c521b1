/**
 * The controller's default JSON-RPC method table (JobCenter's methods), built from the store and
 * broker; the controller merges any `rpc.methods` it is given over it.
 */
import type { ApiClient, Broker, Logger, WorkerStore } from '@drover/core';
import { RemoteWorkers } from '../remote/remote-workers.js';
import type { RemoteWorkerOptions } from '../remote/remote-worker.js';
import type { SessionMethod } from '../session.js';
import { workerMethods } from './workers.js';

export interface JobcenterDeps {
  store: WorkerStore;
  broker: Broker;
  logger: Logger;
  /** How remote workers behave (offer timeout, filter retry, …). */
  workers?: RemoteWorkerOptions;
}

export interface JobcenterMethods {
  methods: Record<string, SessionMethod<ApiClient>>;
  /** The connections' remote workers; close them after the connections, before the store. */
  remotes: RemoteWorkers;
}

export function jobcenterMethods(deps: JobcenterDeps): JobcenterMethods {
  const remotes = new RemoteWorkers({ store: deps.store, broker: deps.broker, logger: deps.logger, ...(deps.workers ? { options: deps.workers } : {}) });
  return { methods: { ...workerMethods(remotes, deps.logger) }, remotes };
}
