// A TEST-ONLY Host in memory: one World holds the clock, jobs, locks and events; each run gets a
// MemoryHost bound to its job id. Children are only recorded here; the driver runs them.
import type { Json } from '../../ast.js';
import type { Host, JsonObject, LockAnswer, WorkflowEvent } from '../../ports.js';

export interface ChildRecord {
  readonly jobId: string;
  readonly parent: string;
  readonly name: string;
  readonly arg: JsonObject;
  readonly detached: boolean;
  readonly inheritLocks: boolean;
  status: 'created' | 'running' | 'succeeded' | 'failed' | 'cancelled';
}

export class World {
  clock = Date.parse('2026-01-01T00:00:00.000Z');
  private next = 0;
  readonly children = new Map<string, ChildRecord>();
  readonly cancelled: string[] = [];
  readonly raised: { name: string; data: JsonObject }[] = [];
  readonly subscriptions = new Map<string, JsonObject>();
  /** Events queued for the driver to deliver to a waiting run. */
  readonly queue: WorkflowEvent[] = [];
  /** Lock key → holding job. */
  readonly locks = new Map<string, string>();
  /** Lock key → jobs waiting for it, in order. */
  readonly lockWaits = new Map<string, string[]>();
  /** A scripted answer, consulted before the lock table (deadlocks are scripted this way). */
  lockScript: ((type: string, value: string, jobId: string) => LockAnswer | null) | null = null;
  readonly log: string[] = [];

  newJobId(): string {
    this.next += 1;
    return `job-${this.next}`;
  }

  queueEvent(name: string, data: JsonObject): void {
    this.queue.push({ name, eventId: String(this.queue.length + 1), when: new Date(this.clock).toISOString(), data });
  }

  /** Releases a lock held by a job outside the workflow under test; returns the next waiter, if any. */
  release(type: string, value: string): string | null {
    const key = `${type}\u0000${value}`;
    this.locks.delete(key);
    const waiter = this.lockWaits.get(key)?.shift() ?? null;
    if (waiter) this.locks.set(key, waiter);
    return waiter;
  }

  hostFor(jobId: string): MemoryHost {
    return new MemoryHost(this, jobId);
  }
}

export class MemoryHost implements Host {
  constructor(
    readonly world: World,
    readonly jobId: string,
  ) {}

  now(): Date {
    return new Date(this.world.clock);
  }

  createChild(request: { name: string; arg: JsonObject; detached: boolean; inheritLocks: boolean }): Promise<string> {
    const jobId = this.world.newJobId();
    this.world.children.set(jobId, { ...structuredClone(request), jobId, parent: this.jobId, status: 'created' });
    this.world.log.push(`${this.jobId} create ${request.name} ${jobId}`);
    return Promise.resolve(jobId);
  }

  cancelChildren(jobIds: readonly string[]): Promise<void> {
    for (const id of jobIds) {
      const child = this.world.children.get(id);
      if (child && (child.status === 'created' || child.status === 'running')) child.status = 'cancelled';
      this.world.cancelled.push(id);
    }
    return Promise.resolve();
  }

  raiseEvent(name: string, data: JsonObject): Promise<void> {
    this.world.raised.push({ name, data });
    return Promise.resolve();
  }

  subscribe(name: string, mask: JsonObject): Promise<void> {
    this.world.subscriptions.set(name, mask);
    return Promise.resolve();
  }

  unsubscribe(name: string): Promise<void> {
    this.world.subscriptions.delete(name);
    return Promise.resolve();
  }

  lock(type: string, value: string, options: { inherit: boolean; wait: boolean }): Promise<LockAnswer> {
    this.world.log.push(`${this.jobId} lock ${type} ${value}`);
    const scripted = this.world.lockScript?.(type, value, this.jobId) ?? null;
    if (scripted) return Promise.resolve(scripted);
    const key = `${type}\u0000${value}`;
    const holder = this.world.locks.get(key);
    if (holder === undefined) {
      this.world.locks.set(key, this.jobId);
      return Promise.resolve({ kind: 'acquired' });
    }
    if (!options.wait) return Promise.resolve({ kind: 'busy', holder });
    this.world.lockWaits.set(key, [...(this.world.lockWaits.get(key) ?? []), this.jobId]);
    return Promise.resolve({ kind: 'waiting', holder });
  }

  unlock(type: string, value: string): Promise<boolean> {
    this.world.log.push(`${this.jobId} unlock ${type} ${value}`);
    const key = `${type}\u0000${value}`;
    if (this.world.locks.get(key) !== this.jobId) return Promise.resolve(false);
    this.world.locks.delete(key);
    return Promise.resolve(true);
  }
}

/** A JSON deep copy, as the engine's store gives back. */
export function roundTrip<T extends Json>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
