/**
 * The CLI's configuration: read from the environment once, validated with zod, every error naming
 * the variable. Nothing below this file reads process.env.
 */
import { z } from 'zod';
// The subpath, not the package: the whole controller (Fastify, the relay, the RPC server) would load on every CLI start.
import { trustedProxiesProblem } from '@drover/controller/trusted-proxies';
import { ValidationError } from '@drover/core';


const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, { error: `must be a URL with scheme ${protocols.join(' or ')}` });

const intFrom = (min: number, max: number) => z.coerce.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(min, { error: `must be at least ${min}` }).max(max, { error: `must be at most ${max}` });

const envSchema = z.object({
  /** Unset: embedded mode (`drover dev` on PGlite; the other commands talk to it over HTTP). */
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  /** Unset: the in-memory broker (`drover dev` only). */
  AMQP_URL: url(['amqp:', 'amqps:']).optional(),
  /**
   * Redis, for worker presence (`drover workers`, `GET /workers`) and fleet-wide rate limits and
   * concurrency caps (functions' `rateLimit`, `concurrency`). Unset: workers are not reported, and a
   * worker keeps its limits in memory, for its own process only (embedded `drover dev` keeps both in
   * memory). Both are disposable: a Redis that is away only makes the list stale, and pauses limited
   * functions (see DROVER_FLOW_FAIL_OPEN).
   */
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  /** How often workers report themselves to presence; a worker drops off after two missed beats. Unset: 5 s. */
  DROVER_HEARTBEAT_MS: intFrom(10, 3_600_000).optional(),
  /** While Redis is unreachable: false pauses limited functions (fail closed), true runs them unlimited (fail open). */
  DROVER_FLOW_FAIL_OPEN: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false').transform((v) => v === 'true'),
  /** Where embedded mode keeps its data and says where its API listens. */
  DROVER_DATA_DIR: z.string().min(1).default('.drover'),
  DROVER_NAMESPACE: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, { error: 'must be 1 to 40 characters of a-z, 0-9 and _, starting with a letter' })
    .refine((v) => v !== 'public' && v !== 'information_schema' && !v.startsWith('pg_'), { error: 'must not be a reserved or system schema (public, information_schema, pg_*)' })
    .default('drover'),
  DROVER_QUEUE_TYPE: z.enum(['classic', 'quorum'], { error: 'must be classic or quorum' }).default('classic'),
  /** Messages that survive a broker restart; off, the relay publishes again what a restart lost. */
  DROVER_PERSISTENT_MESSAGES: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false').transform((v) => v === 'true'),
  DROVER_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * Host names the HTTP API answers to besides localhost, loopback and IP addresses and the bound
   * host, comma-separated (a request with any other Host is refused, against DNS rebinding).
   */
  DROVER_HTTP_ALLOWED_HOSTS: z.string().regex(/^[A-Za-z0-9.\-[\]:]+(,[A-Za-z0-9.\-[\]:]+)*$/, { error: 'must be host names separated by commas, e.g. drover.internal,api.example.com' })
    .transform((v) => v.split(','))
    .optional(),
  /**
   * The reverse proxies in front of the HTTP port (addresses, CIDRs, or loopback, linklocal,
   * uniquelocal), comma-separated: a request or WebSocket upgrade from one of them is credited to
   * the client its X-Forwarded-For names. Unset: no proxy is trusted and the header is ignored.
   */
  DROVER_TRUST_PROXY: z.string()
    .transform((v, ctx) => {
      // Spaces after the commas are forgiven; the entries themselves are checked as the controller will compile them.
      const entries = v.split(',').map((entry) => entry.trim());
      const problem = trustedProxiesProblem(entries);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
      return entries;
    })
    .optional(),
  /**
   * The API client token the commands send to a controller's HTTP API. Unset against a local
   * `drover dev`, the one it keeps in its data folder is used.
   */
  DROVER_TOKEN: z.string().regex(/^\S{8,1024}$/, { error: 'must be 8 to 1024 characters with no spaces (a token from `drover clients add`, or <who>:<token>)' }).optional(),
  DROVER_HTTP_PORT: intFrom(0, 65_535).default(8080),
  /** The largest body `POST /webhooks/:id` takes, bytes (default 256 KiB; at most the API's 10 MiB). */
  DROVER_WEBHOOK_BODY_LIMIT: intFrom(1, 10 * 1024 * 1024).optional(),
  /** JSON-RPC over TCP (JobCenter's protocol), bound to DROVER_HTTP_HOST like the HTTP API; 0 picks a free port. */
  DROVER_RPC_PORT: intFrom(0, 65_535).default(6522),
  /** JSON-RPC inside TLS on its own port: unset, none. Needs DROVER_TLS_CERT and DROVER_TLS_KEY. */
  DROVER_RPC_TLS_PORT: intFrom(0, 65_535).optional(),
  /** PEM files: the server's certificate chain and key, and optionally the CA that signs client certificates. */
  DROVER_TLS_CERT: z.string().min(1).optional(),
  DROVER_TLS_KEY: z.string().min(1).optional(),
  DROVER_TLS_CLIENT_CA: z.string().min(1).optional(),
  /** Remote workers: how long a `task_ready` waits for its `get_task` before the task goes elsewhere (default 10 s). */
  DROVER_RPC_OFFER_TIMEOUT_MS: intFrom(100, 3_600_000).optional(),
  /** Remote workers: how long a job a worker's filter does not match is put back for (default 30 s). */
  DROVER_RPC_FILTER_RETRY_MS: intFrom(100, 86_400_000).optional(),
  /**
   * Remote workers: the lease of each task's claim (default 60 s). Only a controller that dies
   * without stopping leaves its tasks to their leases; at least 1 s, the worker package's floor.
   */
  DROVER_RPC_LEASE_MS: intFrom(1_000, 86_400_000).optional(),
  /**
   * First delay of the backoff after a lease expires (the scheduler has no function's policy at
   * hand). Unset: 2 minutes for services, 1 second for `drover dev`, so a demo interrupted mid-job
   * finishes promptly after a restart.
   */
  DROVER_RETRY_BASE_MS: intFrom(0, 86_400_000).optional(),
  DROVER_SHUTDOWN_GRACE_MS: intFrom(0, 3_600_000).default(10_000),
  DROVER_RELAY_SWEEP_MS: intFrom(10, 3_600_000).default(1_000),
  /**
   * Dispatched, unclaimed jobs a function may have in the broker; a backlog beyond it waits in
   * PostgreSQL. A small multiple of the consumers' prefetch is enough for low latency.
   */
  DROVER_RELAY_MAX_IN_BROKER: intFrom(1, 1_000_000).default(1_000),
  /** A dispatched job unclaimed this long is published again if its queue has room below the bound (a lost message). */
  DROVER_REDISPATCH_AFTER_MS: intFrom(1_000, 86_400_000).default(300_000),
  DROVER_SCHEDULER_POLL_MS: intFrom(10, 3_600_000).default(1_000),
  /** Runs the workflow engine in every scheduler process (and in `drover dev`); on by default. */
  DROVER_WORKFLOWS: z.enum(['true', 'false'], { error: 'must be true or false' }).default('true').transform((v) => v === 'true'),
  /**
   * A module exporting `machine` (a step machine) for the workflow engine, in place of the built-in
   * one: a test hook (the end-to-end tests run a list machine in real scheduler processes).
   */
  DROVER_WORKFLOW_MACHINE: z.string().min(1).optional(),
  /** The lease of a workflow job between its claim and its start's commit: how long an engine that died there delays it (default 60 s). */
  DROVER_WORKFLOW_LEASE_MS: intFrom(1_000, 86_400_000).optional(),
  /** How often the scheduler trims finished jobs and expired idempotency keys (their retention is hours or days). */
  DROVER_SCHEDULER_TRIM_EVERY_MS: intFrom(1_000, 86_400_000).default(60_000),
  /** PostgreSQL session timeouts (unset: the store's defaults; see packages/store/src/internal/timeouts.ts). */
  DROVER_PG_CONNECT_TIMEOUT_MS: intFrom(1, 3_600_000).optional(),
  DROVER_PG_QUERY_TIMEOUT_MS: intFrom(1, 86_400_000).optional(),
  DROVER_PG_STATEMENT_TIMEOUT_MS: intFrom(1, 86_400_000).optional(),
  DROVER_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: intFrom(1, 86_400_000).optional(),
  DROVER_PG_KEEPALIVE_MS: intFrom(1_000, 3_600_000).optional(),
  /** After PostgreSQL starts, how long leases that ended around the outage are left to their workers (unset: 30 s). */
  DROVER_RESTART_GRACE_MS: intFrom(0, 3_600_000).optional(),
  /** How long an idempotency key is honoured (unset: a day). */
  DROVER_IDEMPOTENCY_KEY_RETENTION_MS: intFrom(0, 315_360_000_000).optional(),
  /** Unset: info for services, warn for `drover dev` (whose terminal shows the live view). */
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { error: 'must be one of trace, debug, info, warn, error, fatal, silent' }).optional(),
});

export type Config = z.infer<typeof envSchema>;

/** The value of a variable a command cannot do without, or an error that says what to do. */
export function required(config: Config, variable: 'DATABASE_URL' | 'AMQP_URL' | 'REDIS_URL', command: string): string {
  const value = config[variable];
  if (!value) throw new ValidationError(variable, `is not set; \`drover ${command}\` needs it (\`drover dev\` runs everything embedded without it)`);
  return value;
}

/** Where the controller's HTTP API listens, which host names it answers to, and which proxies it trusts. */
export function httpListenOptions(config: Config): { host: string; port: number; allowedHosts?: string[]; trustProxy?: string[]; webhookBodyLimit?: number } {
  return {
    host: config.DROVER_HTTP_HOST,
    port: config.DROVER_HTTP_PORT,
    ...(config.DROVER_HTTP_ALLOWED_HOSTS ? { allowedHosts: config.DROVER_HTTP_ALLOWED_HOSTS } : {}),
    ...(config.DROVER_TRUST_PROXY ? { trustProxy: config.DROVER_TRUST_PROXY } : {}),
    ...(config.DROVER_WEBHOOK_BODY_LIMIT === undefined ? {} : { webhookBodyLimit: config.DROVER_WEBHOOK_BODY_LIMIT }),
  };
}

/** Parses the environment; throws a ValidationError naming the first bad variable. */
export function configFromEnv(env: NodeJS.ProcessEnv): Config {
  // An empty variable means unset, as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ValidationError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  return parsed.data;
}
