/**
 * Presence in one process, for embedded mode (`drover dev`, no Redis): the same port, the same
 * conformance suite. Expiry is read from the injected clock when listing, so tests move time by
 * hand; nothing needs sweeping, since an expired record is dropped the first time it is seen.
 */
import { systemClock, validateWorkerPresence, type Clock, type LiveWorker, type Presence, type WorkerPresence } from '@drover/core';
import { decodeRecord, encodeRecord } from './records.js';

export class MemoryPresence implements Presence {
  readonly #clock: Clock;
  /** Stored encoded, as Redis holds them, so a caller that mutates its record later changes nothing here. */
  readonly #records = new Map<string, { text: string; expiresAt: number }>();

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  // Async although it awaits nothing: bad input rejects, as with Redis, rather than throwing at the call.
  async announce(worker: WorkerPresence, ttlMs: number): Promise<void> {
    validateWorkerPresence(worker, ttlMs);
    const now = this.#clock.now();
    this.#records.set(worker.id, { text: encodeRecord(worker, now), expiresAt: now.getTime() + ttlMs });
  }

  withdraw(id: string): Promise<void> {
    this.#records.delete(id);
    return Promise.resolve();
  }

  list(): Promise<LiveWorker[]> {
    const now = this.#clock.now().getTime();
    const live: LiveWorker[] = [];
    for (const [id, { text, expiresAt }] of this.#records) {
      if (expiresAt <= now) {
        this.#records.delete(id);
        continue;
      }
      const decoded = decodeRecord(text);
      if (decoded) live.push({ ...decoded.worker, seenAt: decoded.seenAt, expiresAt: new Date(expiresAt) });
    }
    return Promise.resolve(live.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export function createMemoryPresence(options: { clock?: Clock } = {}): MemoryPresence {
  return new MemoryPresence(options);
}
