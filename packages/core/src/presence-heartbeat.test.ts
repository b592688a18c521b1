import { describe, expect, it } from 'vitest';
import { PresenceHeartbeat, heartbeatInterval } from './presence-heartbeat.js';
import type { LiveWorker, Presence, WorkerPresence } from './presence-port.js';
import type { Logger } from './logger.js';

/** A registry that records calls and can be made to fail, as an unreachable Redis would. */
class RecordingPresence implements Presence {
  announced: WorkerPresence[] = [];
  withdrawn: string[] = [];
  failing = false;
  #waiters: (() => void)[] = [];
  announce(worker: WorkerPresence): Promise<void> {
    this.#waiters.splice(0).forEach((w) => w());
    if (this.failing) return Promise.reject(new Error('ECONNREFUSED'));
    this.announced.push(structuredClone(worker));
    return Promise.resolve();
  }
  /** Resolves at the next announce call, failed or not. */
  nextCall(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  withdraw(id: string): Promise<void> {
    if (this.failing) return Promise.reject(new Error('ECONNREFUSED'));
    this.withdrawn.push(id);
    return Promise.resolve();
  }
  list(): Promise<LiveWorker[]> {
    return Promise.resolve([]);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function logs(into: string[]): Logger {
  const logger: Logger = { debug: () => undefined, info: (_f, m) => into.push(`info ${m}`), warn: (_f, m) => into.push(`warn ${m}`), error: () => undefined, child: () => logger };
  return logger;
}

const record = (running: number): WorkerPresence => ({ id: 'w1', kind: 'shim', client: null, host: 'h', pid: 1, functions: ['f'], slots: 2, running, version: '0', startedAt: new Date(0) });

describe('PresenceHeartbeat', () => {
  it('announces the record of the moment on every beat, logs an outage once, resumes, and withdraws on stop', async () => {
    const presence = new RecordingPresence();
    const lines: string[] = [];
    let running = 0;
    const beat = new PresenceHeartbeat({ presence, heartbeatMs: 10, record: () => record(running), logger: logs(lines) });
    const first = presence.nextCall();
    beat.start();
    await first;
    running = 2;
    await presence.nextCall();
    presence.failing = true;
    for (let i = 0; i < 3; i++) await presence.nextCall();
    presence.failing = false;
    await presence.nextCall();
    await beat.stop();
    expect(presence.announced[0]!.running).toBe(0);
    expect(presence.announced.at(-1)!.running).toBe(2);
    expect(lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    expect(lines).toContain('info presence registry reachable again; heartbeats resumed');
    expect(presence.withdrawn).toEqual(['w1']);
  });

  it('stops without rejecting when the registry is away; the record is left to expire', async () => {
    const presence = new RecordingPresence();
    presence.failing = true;
    const beat = new PresenceHeartbeat({ presence, heartbeatMs: 10, record: () => record(0), logger: logs([]) });
    beat.start();
    await presence.nextCall();
    await expect(beat.stop()).resolves.toBeUndefined();
    expect(presence.withdrawn).toEqual([]);
  });

  it('refuses an interval out of range, naming the field', () => {
    expect(() => heartbeatInterval(5)).toThrow(/^presence\.heartbeatMs: /);
    expect(() => heartbeatInterval(1.5, 'DROVER_HEARTBEAT_MS')).toThrow(/^DROVER_HEARTBEAT_MS: /);
    expect(heartbeatInterval(undefined)).toBe(5_000);
  });
});
