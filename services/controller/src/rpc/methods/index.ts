/**
 * The controller's default JSON-RPC method table (JobCenter's methods), and what it needs running
 * beside it: the completion watcher that feeds `job_done`. The controller builds this when it
 * serves JSON-RPC and lays its `rpc.methods` over it.
 */
import type { AdminStore, ApiClient, CallerStore, Logger } from '@drover/core';
import { CompletionWatcher } from '../completions.js';
import type { SessionMethod } from '../session.js';
import { callMethods } from './calls.js';

/** What JobCenter's methods need. */
export interface JobcenterDeps {
  store: CallerStore & Pick<AdminStore, 'getJob'>;
  logger: Logger;
}

/** A method table with the resources its methods share, started and stopped with the JSON-RPC server. */
export interface JobcenterMethods {
  methods: Record<string, SessionMethod<ApiClient>>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds JobCenter's methods: the caller's (calls.ts); the worker's join here. */
export function jobcenterMethods(deps: JobcenterDeps): JobcenterMethods {
  const watcher = new CompletionWatcher(deps.store, deps.logger);
  return {
    methods: { ...callMethods({ store: deps.store, watcher, logger: deps.logger }) },
    start: () => watcher.start(),
    stop: () => watcher.stop(),
  };
}
