/**
 * @drover/testing — the harness for Drover's integration tests: services from the environment
 * (DROVER_TEST_DATABASE_URL, DROVER_TEST_AMQP_URL, DROVER_TEST_REDIS_URL, defaulting to local
 * ones; testcontainers where they are down and Docker is up), and a schema per test file.
 *
 * @example
 * ```ts
 * import { useTestNamespace } from '@drover/testing';
 *
 * const ns = useTestNamespace();
 * it('inserts', async () => {
 *   const { id } = await ns.store.insert({ funcname: 'f' });
 *   expect((await ns.store.getJob(id))?.state).toBe('ready');
 * });
 * ```
 */
export { DEFAULT_SERVICE_URLS, reachable, resolveServices, serviceUrlsFromEnv, type ServiceUrls, type StartedServices } from './services.js';
export { closeBrokerConnections, withBrokerStopped } from './rabbitmq.js';
export { withRedisStopped } from './redis.js';
export { restartDatabase, withDatabaseStopped } from './postgres.js';
export { useDroverProcesses, type DroverProcess } from './processes.js';
export { freePort } from './ports.js';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
export { waitFor } from './wait.js';
export { testNamespaceName, useTestNamespace, type TestNamespace } from './namespace.js';
