import { describe, expect, it } from 'vitest';
import { configFromEnv } from './config.js';

describe('configFromEnv', () => {
  it('defaults to the local services', () => {
    expect(configFromEnv({})).toMatchObject({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', DROVER_NAMESPACE: 'drover', DROVER_HTTP_PORT: 8080 });
  });

  it.each([
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ AMQP_URL: 'not a url' }, 'AMQP_URL'],
    [{ DROVER_NAMESPACE: 'Bad-Name' }, 'DROVER_NAMESPACE'],
    [{ DROVER_HTTP_PORT: '70000' }, 'DROVER_HTTP_PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('names the variable in error: %o', (env, variable) => {
    expect(() => configFromEnv(env)).toThrow(expect.objectContaining({ field: variable }));
  });

  it('treats an empty variable as unset', () => {
    expect(configFromEnv({ DROVER_HTTP_PORT: '' }).DROVER_HTTP_PORT).toBe(8080);
  });
});
