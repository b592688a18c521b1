/**
 * What the flow-control end-to-end files share: `drover up` and `drover worker` processes on
 * test/fixtures/flow-handlers.ts with REDIS_URL set, and the handlers' start/end log.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { beforeAll, inject } from 'vitest';
import { useDrover } from './harness.js';

export const FLOW_FUNCNAMES = ['flow.rated', 'flow.capped', 'flow.hold', 'flow.free'];

export interface FlowEvent {
  event: 'start' | 'end';
  at: number;
  pid: number;
  funcname: string;
  id: string;
  key: string;
}

export function useFlowDrover() {
  const drover = useDrover({ funcnames: FLOW_FUNCNAMES });
  const flowLog = join(drover.processes.logDir, 'flow.log');
  beforeAll(() => writeFileSync(flowLog, ''));
  const env = (extra: Record<string, string> = {}): Record<string, string> =>
    drover.env({
      REDIS_URL: inject('droverServices').redisUrl,
      E2E_FLOW_LOG: flowLog,
      // Given-back jobs are due again within a second or less: the scheduler looks often, so they come back on time.
      DROVER_SCHEDULER_POLL_MS: '100',
      ...extra,
    });
  return {
    ns: drover.ns,
    processes: drover.processes,
    get client() {
      return drover.client;
    },
    env,
    startUp: () => drover.processes.start(['up'], env()),
    startWorker: (extra?: Record<string, string>) => drover.processes.start(['worker', 'test/fixtures/flow-handlers.ts'], env(extra)),
    events(): FlowEvent[] {
      return readFileSync(flowLog, 'utf8').split('\n').filter(Boolean).map((line) => {
        const [event, at, pid, funcname, id, key] = line.split(' ');
        return { event: event as 'start' | 'end', at: Number(at), pid: Number(pid), funcname: funcname!, id: id!, key: key! };
      });
    },
  };
}

/**
 * Collects the starts Redis granted in a rate-limit bucket, from the bucket's own sliding log: each
 * grant stays in it for a window, and a poll every 100 ms sees every one. Returns the grant times (ms).
 */
export function sampleGrants(redisUrl: string, key: string): { stop: () => Promise<number[]> } {
  const redis = new Redis(redisUrl);
  const grants = new Map<string, number>();
  let polling = true;
  const poll = async (): Promise<void> => {
    const flat = await redis.zrange(key, 0, -1, 'WITHSCORES');
    for (let i = 0; i < flat.length; i += 2) grants.set(flat[i]!, Number(flat[i + 1]));
  };
  const loop = (async () => {
    while (polling) {
      await poll();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    stop: async () => {
      polling = false;
      await loop;
      await poll();
      redis.disconnect();
      return [...grants.values()].sort((a, b) => a - b);
    },
  };
}

/** The most starts in any window of `windowMs` (sliding, from each start). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

/** The most handlers of one key running at once, from their start and end events. */
export function maxOverlapByKey(events: readonly FlowEvent[]): Map<string, number> {
  const byKey = new Map<string, FlowEvent[]>();
  for (const e of events) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e]);
  const result = new Map<string, number>();
  for (const [key, list] of byKey) {
    // Ends before starts at the same millisecond: a place is given back before the next start takes it.
    const sorted = [...list].sort((a, b) => a.at - b.at || (a.event === 'end' ? -1 : 1));
    let now = 0;
    let max = 0;
    for (const e of sorted) {
      now += e.event === 'start' ? 1 : -1;
      max = Math.max(max, now);
    }
    result.set(key, max);
  }
  return result;
}
