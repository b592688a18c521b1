import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestNamespace } from '@drover/testing';
import { createClient } from '../src/index.js';

const ns = useTestNamespace();
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** ReadyForQuery, idle: the statement before it committed (autocommit, or COMMIT itself). */
const READY_IDLE = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);

/**
 * A proxy to PostgreSQL that drops the first connection whose server reply reports an INSERT or a
 * COMMIT done and the session idle: the write has committed, and the client never hears so. The moment a
 * restart's "Connection terminated unexpectedly" hurts most, made exact.
 */
async function dropAfterFirstCommit(databaseUrl: string): Promise<{ url: string; dropped: () => number }> {
  const target = new URL(databaseUrl);
  let dropped = 0;
  const server = createServer((client) => {
    const upstream = new Socket();
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (dropped === 0 && chunk.includes(READY_IDLE) && (chunk.includes('COMMIT\u0000') || chunk.includes('INSERT 0 '))) {
        dropped++;
        end();
        return;
      }
      client.write(chunk);
    });
    upstream.connect(Number(target.port) || 5432, target.hostname);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return { url: url.toString(), dropped: () => dropped };
}

async function jobsOf(funcname: string): Promise<number> {
  const { rows } = await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM all_jobs WHERE funcname = $1', [funcname]);
  return rows[0]!.n;
}

describe('enqueue retries', () => {
  it('an enqueue whose connection dies at commit is retried and leaves exactly one job', async () => {
    const proxy = await dropAfterFirstCommit(ns.databaseUrl);
    const client = createClient({ databaseUrl: proxy.url, namespace: ns.namespace });
    try {
      const result = await client.enqueue({ funcname: 'retry.one', arg: { n: 1 } });
      expect(proxy.dropped()).toBe(1);
      // The first attempt committed; the retry found its key and reports that job.
      expect(result.inserted).toBe(false);
      expect((await client.getJob(result.id))?.funcname).toBe('retry.one');
      expect(await jobsOf('retry.one')).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('a batch whose connection dies at commit is retried and leaves each job once', async () => {
    const proxy = await dropAfterFirstCommit(ns.databaseUrl);
    const client = createClient({ databaseUrl: proxy.url, namespace: ns.namespace });
    try {
      const results = await client.enqueueMany(Array.from({ length: 3 }, (_, n) => ({ funcname: 'retry.many', arg: { n } })));
      expect(proxy.dropped()).toBe(1);
      expect(results.map((r) => r.inserted)).toEqual([false, false, false]);
      expect(new Set(results.map((r) => r.id)).size).toBe(3);
      expect(await jobsOf('retry.many')).toBe(3);
    } finally {
      await client.close();
    }
  });

  it('without retries the same fault fails the enqueue although its job committed (what a blind retry would duplicate)', async () => {
    const proxy = await dropAfterFirstCommit(ns.databaseUrl);
    const client = createClient({ databaseUrl: proxy.url, namespace: ns.namespace, retries: false });
    try {
      await expect(client.enqueue({ funcname: 'retry.none' })).rejects.toThrow(/Connection terminated/);
      expect(proxy.dropped()).toBe(1);
      expect(await jobsOf('retry.none')).toBe(1);
    } finally {
      await client.close();
    }
  });
});
