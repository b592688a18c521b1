import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromEnv } from './config.js';
import { rpcListenOptions } from './rpc-config.js';

const dir = mkdtempSync(join(tmpdir(), 'drover-rpc-config-'));
const pem = (name: string): string => {
  const path = join(dir, name);
  writeFileSync(path, `-----BEGIN ${name}-----\nAAAA\n-----END ${name}-----\n`);
  return path;
};

describe('rpcListenOptions', () => {
  it('serves TCP on 6522 at the HTTP host by default, and no TLS', () => {
    expect(rpcListenOptions(configFromEnv({}))).toEqual({ tcp: { host: '127.0.0.1', port: 6522 } });
    expect(rpcListenOptions(configFromEnv({ DROVER_RPC_PORT: '0', DROVER_HTTP_HOST: '0.0.0.0' }))).toEqual({ tcp: { host: '0.0.0.0', port: 0 } });
  });

  it('reads the TLS files once a TLS port is set', () => {
    const env = { DROVER_RPC_TLS_PORT: '6523', DROVER_TLS_CERT: pem('CERT'), DROVER_TLS_KEY: pem('KEY'), DROVER_TLS_CLIENT_CA: pem('CA') };
    const { tls } = rpcListenOptions(configFromEnv(env));
    expect(tls).toMatchObject({ host: '127.0.0.1', port: 6523, cert: expect.stringContaining('BEGIN CERT'), key: expect.stringContaining('BEGIN KEY'), clientCa: expect.stringContaining('BEGIN CA') });
  });

  it("passes the remote workers' offer timeout, filter retry and lease when set", () => {
    expect(rpcListenOptions(configFromEnv({ DROVER_RPC_OFFER_TIMEOUT_MS: '2500' }))).toEqual({ tcp: { host: '127.0.0.1', port: 6522 }, workers: { offerTimeoutMs: 2500 } });
    expect(rpcListenOptions(configFromEnv({ DROVER_RPC_FILTER_RETRY_MS: '5000' })).workers).toEqual({ filterRetryMs: 5000 });
    expect(rpcListenOptions(configFromEnv({ DROVER_RPC_LEASE_MS: '2000' })).workers).toEqual({ leaseMs: 2000 });
  });

  it.each([
    [{ DROVER_RPC_PORT: '65536' }, 'DROVER_RPC_PORT'],
    [{ DROVER_RPC_TLS_PORT: 'x' }, 'DROVER_RPC_TLS_PORT'],
    [{ DROVER_RPC_OFFER_TIMEOUT_MS: '10' }, 'DROVER_RPC_OFFER_TIMEOUT_MS'],
    [{ DROVER_RPC_FILTER_RETRY_MS: 'soon' }, 'DROVER_RPC_FILTER_RETRY_MS'],
    // Below the worker package's floor: renewals would race their own round trips.
    [{ DROVER_RPC_LEASE_MS: '999' }, 'DROVER_RPC_LEASE_MS'],
  ])('names the bad variable: %o', (env, variable) => {
    expect(() => configFromEnv(env)).toThrow(expect.objectContaining({ field: variable }));
  });

  it.each([
    [{ DROVER_RPC_TLS_PORT: '6523', DROVER_TLS_KEY: 'k' }, 'DROVER_TLS_CERT', /is not set/],
    [{ DROVER_TLS_CERT: 'c' }, 'DROVER_TLS_CERT', /DROVER_RPC_TLS_PORT is not/],
    [{ DROVER_RPC_TLS_PORT: '6523', DROVER_TLS_CERT: join(dir, 'missing.pem'), DROVER_TLS_KEY: 'k' }, 'DROVER_TLS_CERT', /cannot read .*ENOENT/],
  ])('refuses an incomplete or unreadable TLS setting, naming it: %o', (env, variable, message) => {
    expect(() => rpcListenOptions(configFromEnv(env))).toThrow(expect.objectContaining({ field: variable, message: expect.stringMatching(message) }));
  });

  it('refuses a file that holds no PEM', () => {
    const notPem = join(dir, 'plain.txt');
    writeFileSync(notPem, 'hello');
    expect(() => rpcListenOptions(configFromEnv({ DROVER_RPC_TLS_PORT: '6523', DROVER_TLS_CERT: notPem, DROVER_TLS_KEY: pem('KEY') }))).toThrow(/DROVER_TLS_CERT: .* holds no PEM block/);
  });
});
