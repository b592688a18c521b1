import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { serviceUrlsFromEnv } from '../src/services.js';
import { startTcpProxy, type TcpProxy } from '../src/tcp-proxy.js';

describe('startTcpProxy', () => {
  let proxy: TcpProxy | undefined;
  afterEach(async () => proxy?.close());

  it('forwards, cuts without closing, heals, and resets', async () => {
    proxy = await startTcpProxy(serviceUrlsFromEnv().databaseUrl);
    const client = new pg.Client({ connectionString: proxy.url, query_timeout: 500 });
    client.on('error', () => undefined);
    await client.connect();
    expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);

    proxy.cut();
    // The socket stays open and silent: the query can only end by the client's own timeout.
    await expect(client.query('SELECT 1')).rejects.toThrow(/timeout/i);
    expect(proxy.connections).toBe(1);

    proxy.heal();
    const fresh = new pg.Client({ connectionString: proxy.url });
    await fresh.connect();
    expect((await fresh.query<{ two: number }>('SELECT 2 AS two')).rows[0]?.two).toBe(2);

    const ended = new Promise((resolve) => fresh.on('error', resolve));
    proxy.reset();
    await ended;
    expect(proxy.connections).toBe(0);
    await client.end().catch(() => undefined);
  });
});
