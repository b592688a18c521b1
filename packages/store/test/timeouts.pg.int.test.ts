/**
 * No role port: the PostgreSQL adapter's timeouts on a silent connection (its pool, and the LISTEN
 * session behind WakeSource). PostgreSQL only.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { isRetryableInfrastructureError, silentLogger, type Logger } from '@drover/core';
import { startTcpProxy, useTestNamespace, waitFor, type TcpProxy } from '@drover/testing';
import { createPgStore, type PgJobStore } from '../src/index.js';

const ns = useTestNamespace();
const proxies: TcpProxy[] = [];
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
});

/** Test-sized timeouts: a silent round trip is abandoned after 1 s. */
const TIMEOUTS = { connectTimeoutMs: 1_000, queryTimeoutMs: 1_000, statementTimeoutMs: 800, idleInTransactionTimeoutMs: 1_000, keepAliveIdleMs: 1_000 };
/** What "within the timeout" allows on a shared two-core machine: the timeout and some slack. Hours is what it guards against. */
const BOUND_MS = 5_000;

async function storeBehindProxy(extra: { listenPingMs?: number; logger?: Logger } = {}): Promise<{ store: PgJobStore; proxy: TcpProxy }> {
  const proxy = await startTcpProxy(ns.databaseUrl);
  proxies.push(proxy);
  return { store: createPgStore({ connectionString: proxy.url, namespace: ns.namespace, max: 2, timeouts: TIMEOUTS, ...extra }), proxy };
}

/** Runs `op` and reports how it settled and after how long. */
async function settle(op: Promise<unknown>): Promise<{ ms: number; err: unknown }> {
  const started = Date.now();
  try {
    await op;
    return { ms: Date.now() - started, err: null };
  } catch (err) {
    return { ms: Date.now() - started, err };
  }
}

describe('timeouts on a silent connection', () => {
  it('an operation in flight when the network goes silent fails within the timeout as retryable, and the pool recovers once it heals', async () => {
    const { store, proxy } = await storeBehindProxy();
    try {
      const { id } = await store.insert({ funcname: 't.cut' });
      proxy.cut();
      const { ms, err } = await settle(store.claim([id], { leaseMs: 30_000 }));
      expect(err).toBeInstanceOf(Error);
      expect(isRetryableInfrastructureError(err)).toBe(true);
      expect(ms).toBeLessThan(BOUND_MS);
      proxy.heal();
      // The timed-out connection was destroyed, not pooled: the next operations run on fresh ones.
      const claimed = await waitFor(async () => (await store.claim([id], { leaseMs: 30_000 }).catch(() => null))?.[0] ?? null, { what: 'a claim after the heal' });
      expect(claimed.id).toBe(id);
      expect((await store.getJob(id))?.state).toBe('running');
    } finally {
      proxy.heal();
      await store.close();
    }
  });

  it('close() finishes within a bound while the network is silent, with a round trip in flight', async () => {
    const { store, proxy } = await storeBehindProxy();
    await store.insert({ funcname: 't.close' });
    proxy.cut();
    const inFlight = settle(store.countLive());
    const closed = await settle(store.close());
    expect(closed.err).toBeNull();
    expect(closed.ms).toBeLessThan(BOUND_MS);
    expect((await inFlight).err).toBeInstanceOf(Error);
  });

  it('the LISTEN session notices the silence, reconnects, and says so once the network heals', async () => {
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (_fields: unknown, message?: string) => void warnings.push(String(message)), child: () => logger };
    const { store, proxy } = await storeBehindProxy({ listenPingMs: 200, logger });
    let wakes = 0;
    const listener = await store.listen(() => wakes++);
    try {
      await waitFor(() => wakes > 0, { what: 'the first wake-up on connecting' });
      proxy.cut();
      // A notification sent now is lost on the silent session.
      await ns.store.insert({ funcname: 't.listen', runAfter: new Date(Date.now() + 3_600_000) });
      // The ping times out and the listener drops the session to dial again.
      await waitFor(() => warnings.includes('listen connection did not answer; reconnecting'), { what: 'the listener to notice the silence' });
      const before = wakes;
      proxy.heal();
      // Reconnected: it reports a wake-up, so its owner looks for what it missed.
      await waitFor(() => wakes > before, { what: 'a wake-up after the heal', timeoutMs: 15_000 });
    } finally {
      proxy.heal();
      await listener.close();
      await store.close();
    }
  });
});
