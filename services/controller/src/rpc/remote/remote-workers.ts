/**
 * Every connection's remote worker, made on its first worker method and closed with its
 * connection: a connection that disconnects or misses its pings gives its tasks back and its
 * consumers stop. `close()` waits for all of that, so the controller closes the store only after.
 */
import { randomBytes } from 'node:crypto';
import { PresenceHeartbeat, type Broker, type Json, type Logger, type PresenceOptions, type WorkerPresence, type WorkerStore } from '@drover/core';
import type { Peer } from '@drover/jsonrpc';
import { WORKER_VERSION } from '@drover/worker';
import {
  DEFAULT_DRAIN_MS,
  DEFAULT_FILTER_RETRY_MS,
  DEFAULT_OFFER_TIMEOUT_MS,
  RemoteWorker,
  type RemoteWorkerDeps,
  type RemoteWorkerOptions,
  type RemoteWorkerSnapshot,
} from './remote-worker.js';

/** One connection's remote worker, with who it is and where it connects from (get_api_status). */
export interface ConnectionWorkers extends RemoteWorkerSnapshot {
  who: string;
  address: string;
  transport: string;
}

export class RemoteWorkers {
  readonly #byPeer = new Map<Peer, RemoteWorker>();
  readonly #who = new Map<Peer, string>();
  readonly #closing = new Set<Promise<void>>();
  readonly #base: Omit<RemoteWorkerDeps, 'peer' | 'who'>;
  /** Each connection's presence heartbeat, started by its first announce. */
  readonly #beats = new Map<Peer, PresenceHeartbeat>();
  readonly #presence: PresenceOptions | null;
  #stopping = false;

  constructor(deps: { store: WorkerStore; broker: Broker; logger: Logger; options?: RemoteWorkerOptions; presence?: PresenceOptions }) {
    this.#presence = deps.presence ?? null;
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
        ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
      },
    };
  }

  /** The connection's remote worker, made on first use. */
  of(peer: Peer, who: string): RemoteWorker {
    let remote = this.#byPeer.get(peer);
    if (remote) return remote;
    remote = new RemoteWorker({ ...this.#base, peer, who, takenElsewhere: (actionname, arg) => this.#wouldTake(actionname, arg, peer) });
    this.#byPeer.set(peer, remote);
    this.#who.set(peer, who);
    const made = remote;
    if (this.#presence) this.#beats.set(peer, this.#heartbeatOf(peer, who, made));
    peer.onClose(() => {
      this.#byPeer.delete(peer);
      this.#who.delete(peer);
      this.#stopBeat(peer);
      const closing = made.close(this.#stopping ? 'shutdown' : 'disconnect');
      this.#closing.add(closing);
      // close() logs its own failures and never rejects.
      closing.finally(() => this.#closing.delete(closing)).catch(() => undefined);
    });
    return remote;
  }

  /**
   * A connection's remote worker in presence: one record per connection (its actions across its
   * slot groups), under an id of its own, since one client may hold several connections.
   */
  #heartbeatOf(peer: Peer, who: string, remote: RemoteWorker): PresenceHeartbeat {
    const id = `remote-${randomBytes(8).toString('hex')}`;
    const startedAt = new Date();
    const record = (): WorkerPresence => {
      const snap = remote.snapshot();
      return {
        id,
        kind: 'remote',
        client: who,
        host: peer.channel.remoteAddress,
        pid: null,
        functions: snap.actions.map((a) => a.actionname).sort(),
        slots: snap.slotgroups.reduce((n, g) => n + g.slots, 0),
        running: snap.tasks.length,
        version: WORKER_VERSION,
        startedAt,
      };
    };
    return new PresenceHeartbeat({ ...this.#presence!, record, logger: this.#base.logger });
  }

  /**
   * The connection's actions changed (an announce, a withdraw): presence shows it now rather than
   * at the next beat. A connection is listed from its first announce on: one that only calls is no worker.
   */
  changed(peer: Peer): void {
    const beat = this.#beats.get(peer);
    if (!beat) return;
    beat.start();
    beat.refresh();
  }

  #stopBeat(peer: Peer): void {
    const beat = this.#beats.get(peer);
    this.#beats.delete(peer);
    if (!beat) return;
    const stopping = beat.stop();
    this.#closing.add(stopping);
    // stop() logs its own failures and never rejects.
    stopping.finally(() => this.#closing.delete(stopping)).catch(() => undefined);
  }

  /** Whether a connection other than `except` would take the job now (a filtered job offered to the wrong worker). */
  #wouldTake(actionname: string, arg: Json, except: Peer): boolean {
    for (const [peer, remote] of this.#byPeer) if (peer !== except && remote.wouldTake(actionname, arg)) return true;
    return false;
  }

  /** The connection's remote worker if it has one (task_done, get_task on a connection that announced nothing). */
  existing(peer: Peer): RemoteWorker | undefined {
    return this.#byPeer.get(peer);
  }

  /** Every open connection's remote worker with what it works now; connections that announced nothing yet are left out. */
  snapshots(): ConnectionWorkers[] {
    return [...this.#byPeer].map(([peer, remote]) => ({
      who: this.#who.get(peer) ?? '',
      address: peer.channel.remoteAddress,
      transport: peer.channel.transport,
      ...remote.snapshot(),
    }));
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
      this.#who.delete(peer);
      this.#stopBeat(peer);
      this.#closing.add(remote.close('shutdown'));
    }
    await Promise.all(this.#closing);
  }
}
