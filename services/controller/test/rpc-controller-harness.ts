/**
 * A controller serving JSON-RPC over TCP on the test file's namespace, with the API clients the
 * file names, and `connect(who)`: a socket that has been greeted and has said hello as that
 * client. The relay does not sweep during the tests, so jobs stay where a call put them.
 */
import { afterAll, beforeAll, expect, inject } from 'vitest';
import type { NewApiClient } from '@drover/core';
import { createAmqpBroker, deleteBrokerNamespace, type AmqpBroker } from '@drover/broker';
import { useTestNamespace, type TestNamespace } from '@drover/testing';
import { createController, type Controller } from '../src/index.js';
import { connectTcpClient, type TestConnection } from './rpc-client.js';

export interface RpcControllerHarness {
  readonly ns: TestNamespace;
  /** A greeted connection that said hello as `who` (one of the clients given). */
  connect: (who: string) => Promise<TestConnection>;
}

/** `clients`: each API client to add, by name, with its scopes. */
export function useRpcController(clients: Record<string, Omit<NewApiClient, 'who'>>): RpcControllerHarness {
  const ns = useTestNamespace();
  const tokens = new Map<string, string>();
  const connections: TestConnection[] = [];
  let broker: AmqpBroker | undefined;
  let controller: Controller | undefined;

  beforeAll(async () => {
    broker = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, connectionName: `rpc-${ns.namespace}` });
    for (const [who, scopes] of Object.entries(clients)) tokens.set(who, (await ns.store.clients.add({ who, ...scopes })).token);
    controller = createController({ store: ns.store, clients: ns.store.clients, broker, http: false, relay: { sweepMs: 600_000 }, rpc: { tcp: { port: 0 } } });
    await controller.start();
  });

  afterAll(async () => {
    for (const c of connections) c.close();
    await controller?.stop();
    await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, funcnames: [] });
    await broker?.close();
  });

  return {
    ns,
    connect: async (who) => {
      const conn = await connectTcpClient(controller!.rpcAddresses!.tcp!.port, { answerPings: true });
      connections.push(conn);
      expect((await conn.next()).method).toBe('greetings');
      expect((await conn.call('hello', { who, method: 'password', token: tokens.get(who) })).result).toEqual([true, expect.stringContaining('welcome')]);
      return conn;
    },
  };
}
