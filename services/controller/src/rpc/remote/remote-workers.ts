/**
 * Every connection's remote worker, made on its first worker method and closed with its
 * connection: a connection that disconnects or misses its pings gives its tasks back and its
 * consumers stop. `close()` waits for all of that, so the controller closes the store only after.
 */
import type { Broker, Logger, WorkerStore } from '@drover/core';
import type { Peer } from '@drover/jsonrpc';
import { DEFAULT_DRAIN_MS, DEFAULT_FILTER_RETRY_MS, DEFAULT_OFFER_TIMEOUT_MS, RemoteWorker, type RemoteWorkerDeps, type RemoteWorkerOptions } from './remote-worker.js';

export class RemoteWorkers {
  readonly #byPeer = new Map<Peer, RemoteWorker>();
  readonly #closing = new Set<Promise<void>>();
  readonly #base: Omit<RemoteWorkerDeps, 'peer' | 'who'>;
  #stopping = false;

  constructor(deps: { store: WorkerStore; broker: Broker; logger: Logger; options?: RemoteWorkerOptions }) {
    const o = deps.options ?? {};
    this.#base = {
      store: deps.store,
      broker: deps.broker,
      logger: deps.logger.child({ component: 'remote-workers' }),
      options: {
        offerTimeoutMs: o.offerTimeoutMs ?? DEFAULT_OFFER_TIMEOUT_MS,
        filterRetryMs: o.filterRetryMs ?? DEFAULT_FILTER_RETRY_MS,
        drainMs: o.drainMs ?? DEFAULT_DRAIN_MS,
        ...(o.retryDelayMs !== undefined ? { retryDelayMs: o.retryDelayMs } : {}),
      },
    };
  }

  /** The connection's remote worker, made on first use. */
  of(peer: Peer, who: string): RemoteWorker {
    let remote = this.#byPeer.get(peer);
    if (remote) return remote;
    remote = new RemoteWorker({ ...this.#base, peer, who });
    this.#byPeer.set(peer, remote);
    const made = remote;
    peer.onClose(() => {
      this.#byPeer.delete(peer);
      const closing = made.close(this.#stopping ? 'shutdown' : 'disconnect');
      this.#closing.add(closing);
      // close() logs its own failures and never rejects.
      closing.finally(() => this.#closing.delete(closing)).catch(() => undefined);
    });
    return remote;
  }

  /** The connection's remote worker if it has one (task_done, get_task on a connection that announced nothing). */
  existing(peer: Peer): RemoteWorker | undefined {
    return this.#byPeer.get(peer);
  }

  /** The controller is stopping: connections closing from now on decline their tasks instead of failing them. */
  beginStop(): void {
    this.#stopping = true;
  }

  /** Closes every remote worker (their connections are closing) and waits until their tasks are given back. */
  async close(): Promise<void> {
    this.#stopping = true;
    for (const [peer, remote] of this.#byPeer) {
      this.#byPeer.delete(peer);
      this.#closing.add(remote.close('shutdown'));
    }
    await Promise.all(this.#closing);
  }
}
