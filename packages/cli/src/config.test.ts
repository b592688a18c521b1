import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTrustedProxies } from '@drover/controller';
import { ValidationError } from '@drover/core';
import { configFromEnv, httpListenOptions, required } from './config.js';

describe('configFromEnv', () => {
  it('leaves the service URLs unset (embedded mode) and defaults the rest', () => {
    const config = configFromEnv({});
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.AMQP_URL).toBeUndefined();
    expect(config).toMatchObject({ DROVER_NAMESPACE: 'drover', DROVER_HTTP_PORT: 8080, DROVER_DATA_DIR: '.drover' });
  });

  it('says which variable a command needs', () => {
    expect(() => required(configFromEnv({}), 'DATABASE_URL', 'worker')).toThrow(/DATABASE_URL: is not set; `drover worker` needs it/);
  });

  it.each([
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ AMQP_URL: 'not a url' }, 'AMQP_URL'],
    [{ DROVER_NAMESPACE: 'Bad-Name' }, 'DROVER_NAMESPACE'],
    [{ DROVER_NAMESPACE: 'public' }, 'DROVER_NAMESPACE'],
    [{ DROVER_PG_QUERY_TIMEOUT_MS: '0' }, 'DROVER_PG_QUERY_TIMEOUT_MS'],
    [{ DROVER_HTTP_PORT: '70000' }, 'DROVER_HTTP_PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DROVER_PERSISTENT_MESSAGES: 'yes' }, 'DROVER_PERSISTENT_MESSAGES'],
    [{ DROVER_RELAY_MAX_IN_BROKER: '0' }, 'DROVER_RELAY_MAX_IN_BROKER'],
    [{ DROVER_RELAY_MAX_IN_BROKER: '1.5' }, 'DROVER_RELAY_MAX_IN_BROKER'],
    [{ DROVER_SCHEDULER_TRIM_EVERY_MS: '999' }, 'DROVER_SCHEDULER_TRIM_EVERY_MS'],
    [{ DROVER_HTTP_ALLOWED_HOSTS: 'a.example, b.example' }, 'DROVER_HTTP_ALLOWED_HOSTS'],
    [{ DROVER_HTTP_ALLOWED_HOSTS: 'a.example,' }, 'DROVER_HTTP_ALLOWED_HOSTS'],
    [{ DROVER_TOKEN: 'short' }, 'DROVER_TOKEN'],
    [{ DROVER_TRUST_PROXY: 'true' }, 'DROVER_TRUST_PROXY'],
    [{ DROVER_WEBHOOK_BODY_LIMIT: '0' }, 'DROVER_WEBHOOK_BODY_LIMIT'],
    [{ DROVER_WEBHOOK_BODY_LIMIT: '256k' }, 'DROVER_WEBHOOK_BODY_LIMIT'],
    [{ DROVER_TRUST_PROXY: '1' }, 'DROVER_TRUST_PROXY'],
    [{ DROVER_TRUST_PROXY: 'proxy.internal' }, 'DROVER_TRUST_PROXY'],
    [{ DROVER_TRUST_PROXY: '10.0.0.0/33' }, 'DROVER_TRUST_PROXY'],
    [{ DROVER_TRUST_PROXY: 'loopback,,10.0.0.1' }, 'DROVER_TRUST_PROXY'],
    [{ DROVER_TRUST_PROXY: '10.0.0.1,' }, 'DROVER_TRUST_PROXY'],
    [{ DROVER_TOKEN: 'has a space in it' }, 'DROVER_TOKEN'],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    [{ DROVER_HEARTBEAT_MS: '5' }, 'DROVER_HEARTBEAT_MS'],
    [{ DROVER_HEARTBEAT_MS: '1.5' }, 'DROVER_HEARTBEAT_MS'],
  ])('names the variable in error: %o', (env, variable) => {
    expect(() => configFromEnv(env)).toThrow(expect.objectContaining({ field: variable }));
  });

  it('reads DROVER_PERSISTENT_MESSAGES as a boolean, off by default', () => {
    expect(configFromEnv({}).DROVER_PERSISTENT_MESSAGES).toBe(false);
    expect(configFromEnv({ DROVER_PERSISTENT_MESSAGES: 'true' }).DROVER_PERSISTENT_MESSAGES).toBe(true);
  });

  it('bounds what a function holds in the broker at 1,000 unless DROVER_RELAY_MAX_IN_BROKER says otherwise', () => {
    expect(configFromEnv({}).DROVER_RELAY_MAX_IN_BROKER).toBe(1_000);
    expect(configFromEnv({ DROVER_RELAY_MAX_IN_BROKER: '50' }).DROVER_RELAY_MAX_IN_BROKER).toBe(50);
  });

  it('trims once a minute unless DROVER_SCHEDULER_TRIM_EVERY_MS says otherwise', () => {
    expect(configFromEnv({}).DROVER_SCHEDULER_TRIM_EVERY_MS).toBe(60_000);
    expect(configFromEnv({ DROVER_SCHEDULER_TRIM_EVERY_MS: '3600000' }).DROVER_SCHEDULER_TRIM_EVERY_MS).toBe(3_600_000);
  });

  it('reads the allowed hosts as a list, and a token as given', () => {
    expect(configFromEnv({ DROVER_HTTP_ALLOWED_HOSTS: 'drover.internal,api.example.com' }).DROVER_HTTP_ALLOWED_HOSTS).toEqual(['drover.internal', 'api.example.com']);
    expect(configFromEnv({}).DROVER_HTTP_ALLOWED_HOSTS).toBeUndefined();
    expect(configFromEnv({ DROVER_TOKEN: 'legacy:jobcenter-secret' }).DROVER_TOKEN).toBe('legacy:jobcenter-secret');
  });

  it('reads the trusted proxies as a list of addresses, CIDRs and range names, none by default', () => {
    expect(configFromEnv({}).DROVER_TRUST_PROXY).toBeUndefined();
    expect(configFromEnv({ DROVER_TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::1,192.168.1.0/255.255.255.0' }).DROVER_TRUST_PROXY).toEqual(['loopback', '10.0.0.0/8', 'fd00::1', '192.168.1.0/255.255.255.0']);
    expect(httpListenOptions(configFromEnv({ DROVER_TRUST_PROXY: 'uniquelocal' }))).toMatchObject({ trustProxy: ['uniquelocal'] });
    expect(httpListenOptions(configFromEnv({}))).not.toHaveProperty('trustProxy');
    expect(httpListenOptions(configFromEnv({ DROVER_WEBHOOK_BODY_LIMIT: '1048576' }))).toMatchObject({ webhookBodyLimit: 1_048_576 });
    expect(httpListenOptions(configFromEnv({}))).not.toHaveProperty('webhookBodyLimit');
  });

  it('says what is wrong with a trusted proxy, naming the entry', () => {
    expect(() => configFromEnv({ DROVER_TRUST_PROXY: 'loopback,1' })).toThrow(/^DROVER_TRUST_PROXY: "1" is not an IP address, a CIDR or one of loopback, linklocal, uniquelocal/);
    expect(() => configFromEnv({ DROVER_TRUST_PROXY: '10.0.0.0/40' })).toThrow(/^DROVER_TRUST_PROXY: "10.0.0.0\/40": invalid range/);
  });

  it('either takes a generated DROVER_TRUST_PROXY as a list the controller compiles, or refuses it naming the variable', () => {
    const entry = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.tuple(fc.ipV4(), fc.integer({ min: -1, max: 40 })).map(([ip, bits]) => `${ip}/${bits}`),
      fc.constantFrom('loopback', 'linklocal', 'uniquelocal', 'true', '*', '1', '', ' '),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 4 }).map((entries) => entries.join(',')), (value) => {
        let entries: string[] | undefined;
        try {
          entries = configFromEnv({ DROVER_TRUST_PROXY: value }).DROVER_TRUST_PROXY;
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          expect((err as ValidationError).field).toBe('DROVER_TRUST_PROXY');
          return;
        }
        // An empty variable is unset: no proxy is trusted.
        if (value === '') expect(entries).toBeUndefined();
        else expect(() => compileTrustedProxies(entries!, 'DROVER_TRUST_PROXY')).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it('treats an empty variable as unset', () => {
    expect(configFromEnv({ DROVER_HTTP_PORT: '' }).DROVER_HTTP_PORT).toBe(8080);
  });
});
