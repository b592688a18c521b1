/**
 * Where the tests find PostgreSQL, RabbitMQ and Redis. URLs come from the environment, defaulting
 * to the local services; when those are unreachable and a Docker engine is, testcontainers
 * starts them; otherwise the run stops with a message that says what to start.
 */
import { Socket } from 'node:net';

/** The services a test run uses. */
export interface ServiceUrls {
  databaseUrl: string;
  amqpUrl: string;
  redisUrl: string;
}

export const DEFAULT_SERVICE_URLS: Readonly<ServiceUrls> = Object.freeze({
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
  redisUrl: 'redis://127.0.0.1:6379',
});

/** The URLs named by DROVER_TEST_DATABASE_URL, DROVER_TEST_AMQP_URL and DROVER_TEST_REDIS_URL, or the defaults. */
export function serviceUrlsFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceUrls {
  return {
    databaseUrl: env.DROVER_TEST_DATABASE_URL || DEFAULT_SERVICE_URLS.databaseUrl,
    amqpUrl: env.DROVER_TEST_AMQP_URL || DEFAULT_SERVICE_URLS.amqpUrl,
    redisUrl: env.DROVER_TEST_REDIS_URL || DEFAULT_SERVICE_URLS.redisUrl,
  };
}

/** A TCP connect is enough to tell "nothing there" from "something there"; the tests find the rest. */
const PROBE_TIMEOUT_MS = 2000;

/** True when something accepts TCP connections at the URL's host and port. */
export function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(Number(port) || defaultPort, hostname.replace(/^\[|\]$/g, ''));
  });
}

const START_HINTS: Record<keyof ServiceUrls, string> = {
  databaseUrl: "PostgreSQL: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start (or set DROVER_TEST_DATABASE_URL)",
  amqpUrl: 'RabbitMQ: rabbitmq-server -detached (or set DROVER_TEST_AMQP_URL)',
  redisUrl: 'Redis: redis-server --daemonize yes (or set DROVER_TEST_REDIS_URL)',
};

const DEFAULT_PORTS: Record<keyof ServiceUrls, number> = { databaseUrl: 5432, amqpUrl: 5672, redisUrl: 6379 };

/** A started fallback; `stop` tears it down at the end of the run. */
export interface StartedServices {
  urls: ServiceUrls;
  stop: () => Promise<void>;
}

/**
 * Resolves the services for a run. Reachable URLs are used as they are; for the others, Docker
 * (through testcontainers) is tried; failing that, the error lists what to start.
 */
export async function resolveServices(needed: readonly (keyof ServiceUrls)[], env: NodeJS.ProcessEnv = process.env): Promise<StartedServices> {
  const urls = serviceUrlsFromEnv(env);
  const down: (keyof ServiceUrls)[] = [];
  for (const key of needed) {
    if (!(await reachable(urls[key], DEFAULT_PORTS[key]))) down.push(key);
  }
  if (down.length === 0) return { urls, stop: async () => undefined };
  const started = await startContainers(down).catch((err: unknown) => {
    const lines = down.map((k) => `  - ${START_HINTS[k]} [tried ${urls[k]}]`);
    throw new Error(`Drover's tests need these services, which are not reachable and could not be started with Docker (${(err as Error).message}):\n${lines.join('\n')}`, { cause: err });
  });
  return { urls: { ...urls, ...started.urls }, stop: started.stop };
}

/** Starts the missing services in containers. Imported lazily: testcontainers is only needed on machines with Docker. */
async function startContainers(keys: readonly (keyof ServiceUrls)[]): Promise<{ urls: Partial<ServiceUrls>; stop: () => Promise<void> }> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const urls: Partial<ServiceUrls> = {};
  const stops: (() => Promise<unknown>)[] = [];
  for (const key of keys) {
    if (key === 'databaseUrl') {
      const c = await new GenericContainer('postgres:15').withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' }).withExposedPorts(5432)
        .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2)).start();
      urls.databaseUrl = `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/postgres`;
      stops.push(() => c.stop());
    } else if (key === 'amqpUrl') {
      const c = await new GenericContainer('rabbitmq:3.10').withExposedPorts(5672).withWaitStrategy(Wait.forLogMessage(/Server startup complete/)).start();
      urls.amqpUrl = `amqp://guest:guest@${c.getHost()}:${c.getMappedPort(5672)}`;
      stops.push(() => c.stop());
    } else {
      const c = await new GenericContainer('redis:7').withExposedPorts(6379).withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/)).start();
      urls.redisUrl = `redis://${c.getHost()}:${c.getMappedPort(6379)}`;
      stops.push(() => c.stop());
    }
  }
  return { urls, stop: async () => void (await Promise.all(stops.map((s) => s()))) };
}
