/**
 * Where the controller's JSON-RPC API listens, from the configuration: TCP on DROVER_RPC_PORT,
 * and TLS on DROVER_RPC_TLS_PORT with the PEM files DROVER_TLS_CERT, DROVER_TLS_KEY and optionally
 * DROVER_TLS_CLIENT_CA, all bound to DROVER_HTTP_HOST like the HTTP API. The files are read once,
 * here, and a missing or unreadable one is an error naming its variable.
 *
 * `drover up`, `drover controller` and `drover dev` pass these as the controller's `rpc`; its
 * `hello` is checked against the namespace's API clients, like the HTTP API's tokens.
 */
import { readFileSync } from 'node:fs';
import { ValidationError } from '@drover/core';
import type { RemoteWorkerOptions, RpcOptions } from '@drover/controller';
import type { Config } from './config.js';

export type RpcListenOptions = Pick<RpcOptions<unknown>, 'tcp' | 'tls'> & { workers?: RemoteWorkerOptions };

export function rpcListenOptions(config: Config): RpcListenOptions {
  const host = config.DROVER_HTTP_HOST;
  const tcp = { host, port: config.DROVER_RPC_PORT };
  const workers = remoteWorkerOptions(config);
  const tlsPort = config.DROVER_RPC_TLS_PORT;
  if (tlsPort === undefined) {
    // A certificate with no port to serve it is a half-done configuration, not something to ignore.
    const stray = (['DROVER_TLS_CERT', 'DROVER_TLS_KEY', 'DROVER_TLS_CLIENT_CA'] as const).find((v) => config[v] !== undefined);
    if (stray) throw new ValidationError(stray, 'is set but DROVER_RPC_TLS_PORT is not; set the port to serve JSON-RPC over TLS');
    return { tcp, ...workers };
  }
  const cert = readPem(config, 'DROVER_TLS_CERT');
  const key = readPem(config, 'DROVER_TLS_KEY');
  const clientCa = config.DROVER_TLS_CLIENT_CA === undefined ? undefined : readPem(config, 'DROVER_TLS_CLIENT_CA');
  return { tcp, tls: { host, port: tlsPort, cert, key, ...(clientCa ? { clientCa } : {}) }, ...workers };
}

/** The remote workers' timings, when any is configured (the controller's defaults otherwise). */
function remoteWorkerOptions(config: Config): { workers?: RemoteWorkerOptions } {
  const { DROVER_RPC_OFFER_TIMEOUT_MS: offerTimeoutMs, DROVER_RPC_FILTER_RETRY_MS: filterRetryMs, DROVER_RPC_LEASE_MS: leaseMs } = config;
  if (offerTimeoutMs === undefined && filterRetryMs === undefined && leaseMs === undefined) return {};
  return {
    workers: {
      ...(offerTimeoutMs !== undefined ? { offerTimeoutMs } : {}),
      ...(filterRetryMs !== undefined ? { filterRetryMs } : {}),
      ...(leaseMs !== undefined ? { leaseMs } : {}),
    },
  };
}

function readPem(config: Config, variable: 'DROVER_TLS_CERT' | 'DROVER_TLS_KEY' | 'DROVER_TLS_CLIENT_CA'): string {
  const path = config[variable];
  if (path === undefined) throw new ValidationError(variable, 'is not set; DROVER_RPC_TLS_PORT needs DROVER_TLS_CERT and DROVER_TLS_KEY');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValidationError(variable, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (!text.includes('-----BEGIN ')) throw new ValidationError(variable, `${path} holds no PEM block`);
  return text;
}
