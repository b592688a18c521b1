/**
 * The Redis adapter: the conformance suite on the real Redis, namespaces kept apart, a record
 * that does not parse skipped, and the keys' TTLs (Redis, not a sweep, forgets a silent worker).
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createRedisPresence, type RedisPresence } from '@drover/presence';
import { testNamespaceName } from '@drover/testing';
import { describePresenceConformance, sampleWorker } from './conformance.js';

const url = inject('droverServices').redisUrl;
const namespaces: string[] = [];
const raw = new Redis(url);

function presenceOn(namespace = testNamespaceName()): RedisPresence {
  namespaces.push(namespace);
  return createRedisPresence({ url, namespace });
}

afterAll(async () => {
  for (const ns of namespaces) {
    const keys = await raw.keys(`${ns}:presence:*`);
    if (keys.length > 0) await raw.del(...keys);
  }
  await raw.quit();
});

describePresenceConformance('redis', () => Promise.resolve(presenceOn()));

describe('RedisPresence', () => {
  it('keeps namespaces apart', async () => {
    const a = presenceOn();
    const b = presenceOn();
    try {
      const worker = sampleWorker();
      await a.announce(worker, 30_000);
      expect((await a.list()).map((w) => w.id)).toEqual([worker.id]);
      expect(await b.list()).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('writes each record with a TTL of its life, so Redis forgets it, and drops its index entry once gone', async () => {
    const ns = testNamespaceName();
    const presence = presenceOn(ns);
    try {
      const worker = sampleWorker();
      await presence.announce(worker, 30_000);
      const ttl = await raw.pttl(`${ns}:presence:worker:${worker.id}`);
      expect(ttl).toBeGreaterThan(25_000);
      expect(ttl).toBeLessThanOrEqual(30_000);
      // As if the TTL ran out: Redis deleted the key; the index entry is all that is left.
      await raw.del(`${ns}:presence:worker:${worker.id}`);
      expect(await presence.list()).toEqual([]);
      expect(await raw.zcard(`${ns}:presence:workers`)).toBe(0);
    } finally {
      await presence.close();
    }
  });

  it('skips a record that does not parse and lists the others', async () => {
    const ns = testNamespaceName();
    const presence = presenceOn(ns);
    try {
      const worker = sampleWorker();
      await presence.announce(worker, 30_000);
      await raw.multi().set(`${ns}:presence:worker:junk`, 'not json', 'PX', 30_000).zadd(`${ns}:presence:workers`, Date.now() + 30_000, 'junk').exec();
      expect((await presence.list()).map((w) => w.id)).toEqual([worker.id]);
    } finally {
      await presence.close();
    }
  });

  it('refuses a URL that is not redis:// and a bad namespace, naming the option', () => {
    expect(() => createRedisPresence({ url: 'http://127.0.0.1:6379', namespace: 'ok' })).toThrow(/^url: /);
    expect(() => createRedisPresence({ url, namespace: 'Bad-Name' })).toThrow(/^namespace: /);
  });
});
