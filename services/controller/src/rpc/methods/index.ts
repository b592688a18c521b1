/**
 * The controller's default JSON-RPC method table (JobCenter's methods, and Drover's raise_event), and what runs beside it:
 * the completion watcher that feeds `job_done`, and the connections' remote workers. The
 * controller builds this when it serves JSON-RPC and lays its `rpc.methods` over it.
 */
import type { AdminStore, ApiClient, Broker, CallerStore, EventStore, Logger, PresenceOptions, WorkerStore } from '@drover/core';
import { CompletionWatcher } from '../completions.js';
import { RemoteWorkers } from '../remote/remote-workers.js';
import type { RemoteWorkerOptions } from '../remote/remote-worker.js';
import type { SessionSummary } from '../rpc-server.js';
import type { SessionMethod } from '../session.js';
import { callMethods } from './calls.js';
import { eventMethods } from './events.js';
import { lockMethods, type LockMethodsStore } from './locks.js';
import { statusMethods } from './status.js';
import { triggerMethods, type TriggerMethodsStore } from './triggers.js';
import { workerMethods } from './workers.js';

/** What JobCenter's methods need. */
export interface JobcenterDeps {
  /** Callers wait for their jobs through the caller port; remote workers claim and finish through the worker port. */
  store: CallerStore & Pick<AdminStore, 'getJob' | 'counts'> & WorkerStore & Pick<EventStore, 'raiseEvent'> & TriggerMethodsStore & LockMethodsStore;
  broker: Broker;
  logger: Logger;
  /** How remote workers behave (offer timeout, filter retry, …). */
  workers?: RemoteWorkerOptions;
  /** The authenticated sessions open now, for `get_api_status` (the RpcServer's; none unless given). */
  sessions?: () => SessionSummary[];
  /** Where the connections' remote workers are reported (unset: they are not). */
  presence?: PresenceOptions;
}

/** A method table with the resources its methods share. */
export interface JobcenterMethods {
  methods: Record<string, SessionMethod<ApiClient>>;
  /** The connections' remote workers; close them after the connections, before the store. */
  remotes: RemoteWorkers;
  /** Starts listening for completions: before the first connection, so no create_job waits unheard. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds JobCenter's methods: the caller's (calls.ts), the worker's (workers.ts) and the operator's (status.ts); and Drover's trigger methods (triggers.ts). */
export function jobcenterMethods(deps: JobcenterDeps): JobcenterMethods {
  const watcher = new CompletionWatcher(deps.store, deps.logger);
  const remotes = new RemoteWorkers({ store: deps.store, broker: deps.broker, logger: deps.logger, ...(deps.workers ? { options: deps.workers } : {}), ...(deps.presence ? { presence: deps.presence } : {}) });
  return {
    methods: {
      ...callMethods({ store: deps.store, watcher, logger: deps.logger }),
      ...lockMethods(deps.store),
      ...workerMethods(remotes, deps.logger),
      ...statusMethods({ store: deps.store, sessions: deps.sessions ?? (() => []), remotes }),
      // Drover's extensions beyond JobCenter's protocol.
      ...eventMethods(deps.store),
      ...triggerMethods(deps.store),
    },
    remotes,
    start: () => watcher.start(),
    stop: () => watcher.stop(),
  };
}
