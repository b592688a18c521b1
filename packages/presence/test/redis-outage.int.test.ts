/**
 * Redis lost, nothing lost: with Redis stopped, presence calls fail within their bound (no hang,
 * no pile of queued writes), the heartbeat loop swallows the failures, and the same registry,
 * without a restart, announces again once Redis is back (whose restart lost every key).
 * Stops the shared Redis: run under `flock -x /tmp/drover-svc.lock`.
 */
import { describe, expect, inject, it } from 'vitest';
import { PresenceHeartbeat, type LogFn, type Logger } from '@drover/core';
import { createRedisPresence } from '@drover/presence';
import { testNamespaceName, waitFor, withRedisStopped } from '@drover/testing';
import { sampleWorker } from './conformance.js';

/** Collects warnings, so the test sees the outage logged once, not once per beat. */
function recordingLogger(into: string[]): Logger {
  const at = (level: string): LogFn => (_fields, message) => into.push(`${level}: ${message ?? ''}`);
  const logger: Logger = { debug: () => undefined, info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

describe('RedisPresence across a Redis restart', () => {
  it('fails fast while Redis is down and resumes on its own once it is back', async () => {
    const presence = createRedisPresence({ url: inject('droverServices').redisUrl, namespace: testNamespaceName(), commandTimeoutMs: 1_000 });
    const logs: string[] = [];
    const worker = sampleWorker();
    let beats = 0;
    const heartbeat = new PresenceHeartbeat({ presence, heartbeatMs: 100, record: () => (beats++, worker), logger: recordingLogger(logs) });
    try {
      heartbeat.start();
      await waitFor(async () => (await presence.list()).length === 1, { what: 'the first heartbeat' });
      await withRedisStopped(inject('droverServices').redisUrl, async () => {
        const started = Date.now();
        await expect(presence.announce(worker, 1_000)).rejects.toThrow();
        // Bounded by the command timeout and the reconnection backoff, not by the outage.
        expect(Date.now() - started).toBeLessThan(5_000);
        const beatsBefore = beats;
        await waitFor(() => beats >= beatsBefore + 5, { what: 'heartbeats to go on while Redis is down' });
        expect(logs.filter((l) => l.startsWith('warn: presence heartbeat failed'))).toHaveLength(1);
      });
      // Redis came back empty (no persistence): the same loop, same connection object, fills it again.
      await waitFor(async () => (await presence.list()).map((w) => w.id).join() === worker.id, { timeoutMs: 20_000, what: 'presence to come back after Redis restarted' });
      expect(logs).toContain('info: presence registry reachable again; heartbeats resumed');
    } finally {
      await heartbeat.stop();
      await presence.close();
    }
  });
});
