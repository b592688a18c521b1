/**
 * The heartbeat loop a worker runs beside its work: announce at once, again every interval with a
 * fresh record (jobs running now), and withdraw on a clean stop. A registry that is unreachable
 * never reaches the worker: a failed announce is logged (once per outage, not once per beat) and
 * the next beat tries again, so presence comes back by itself when the registry does.
 */
import { ValidationError } from './errors.js';
import type { Logger } from './logger.js';
import type { Presence, WorkerPresence } from './presence-port.js';

/**
 * Five seconds: a vanished worker drops off within two missed beats (10 s), which is what an
 * operator watching `drover workers` expects, and one small write per worker every 5 s is nothing
 * to Redis.
 */
export const DEFAULT_HEARTBEAT_MS = 5_000;
/** Gone after two missed heartbeats: one late beat (a busy event loop, a GC pause) does not drop a worker. */
export const MISSED_HEARTBEATS = 2;

/** How a worker reports itself. */
export interface PresenceOptions {
  presence: Presence;
  /** Between heartbeats; a record lives {@link MISSED_HEARTBEATS} of them. Default {@link DEFAULT_HEARTBEAT_MS}. */
  heartbeatMs?: number;
}

/** Checks the interval of {@link PresenceOptions}; the error names `field`. */
export function heartbeatInterval(heartbeatMs: number | undefined, field = 'presence.heartbeatMs'): number {
  const ms = heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  if (!Number.isInteger(ms) || ms < 10 || ms > 3_600_000) throw new ValidationError(field, 'must be a whole number of milliseconds from 10 to 3600000');
  return ms;
}

export class PresenceHeartbeat {
  readonly #presence: Presence;
  readonly #intervalMs: number;
  readonly #record: () => WorkerPresence;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | null = null;
  /** The beat in flight: stop() waits for it, so a late announce cannot follow the withdraw. */
  #beat: Promise<void> = Promise.resolve();
  #failing = false;
  #stopped = false;

  /** `record` is called on every beat, so the record carries the worker's figures of the moment. */
  constructor(options: PresenceOptions & { record: () => WorkerPresence; logger: Logger }) {
    this.#presence = options.presence;
    this.#intervalMs = heartbeatInterval(options.heartbeatMs);
    this.#record = options.record;
    this.#logger = options.logger;
  }

  /** Announces now (not waited for: a registry that hangs must not hold the worker's start) and every interval after. */
  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#beatNow();
    this.#timer = setInterval(() => this.#beatNow(), this.#intervalMs);
    // Presence never keeps a process alive on its own.
    this.#timer.unref();
  }

  /** Announces at once, between beats (a remote worker's announce changed its functions). */
  refresh(): void {
    if (this.#timer) this.#beatNow();
  }

  #beatNow(): void {
    // One beat at a time: a registry slower than the interval gets no pile of writes.
    this.#beat = this.#beat.then(() => (this.#stopped ? undefined : this.#announce()));
  }

  async #announce(): Promise<void> {
    const record = this.#record();
    try {
      await this.#presence.announce(record, this.#intervalMs * MISSED_HEARTBEATS);
      if (this.#failing) this.#logger.info({ workerId: record.id }, 'presence registry reachable again; heartbeats resumed');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.#logger.warn({ workerId: record.id, err: (err as Error).message }, 'presence heartbeat failed; the worker keeps working and tries again every heartbeat');
      this.#failing = true;
    }
  }

  /** Stops beating and withdraws the record; a registry that is away leaves it to expire. Never rejects. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#beat;
    const id = this.#record().id;
    await this.#presence.withdraw(id).catch((err: unknown) => {
      this.#logger.warn({ workerId: id, err: (err as Error).message }, 'presence withdraw failed; the record expires on its own');
    });
  }
}
